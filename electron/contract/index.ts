export * from './errors';
export * from './host-facts';
export * from './hosts';
export * from './metrics';
export * from './api';
export * from './messages';
export * from './client';
