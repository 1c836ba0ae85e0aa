import { describe, expect, it } from 'vitest';
import { CONFIG_ENVIRONMENTS, CONFIG_LAYER_KINDS } from '../../../electron/contract';
import { LAYER_KINDS } from '../../../electron/backend/config/config-layer';
import { ENVIRONMENTS } from '../../../electron/backend/config/install-config-schema';

// The contract cannot import the backend, so it lists these words itself; they must not drift.
describe('the contract’s configuration words', () => {
  it('are the environments and layer kinds the loader knows', () => {
    expect([...CONFIG_ENVIRONMENTS]).toEqual([...ENVIRONMENTS]);
    expect([...CONFIG_LAYER_KINDS]).toEqual([...LAYER_KINDS]);
  });
});
