/**
 * One line of an instance's output as tailLogs hands it on: stamped in milliseconds and
 * named by instance (the file's own parsed line is log-tail.ts's LogLine).
 */
export interface InstanceLogLine {
  atMs: number;
  instance: string;
  stream: 'stdout' | 'stderr';
  text: string;
}
