import type { RuntimeEventInput } from './runtime-event';

/**
 * Keeps each instance's events in the order its supervisor raised them while some of them
 * wait for work done off the restart path (a crash's last lines, read after the respawn):
 * the instance's later events wait behind such an event, so a watcher never sees its
 * crash-loop-left before its crash-loop, nor the crash-loop before the exit that caused it.
 * Other instances' events do not wait. An event with nothing before it is published at once.
 */
export class InstanceEventOrder {
  private readonly waiting = new Map<string, Promise<void>>();

  constructor(private readonly publish: (event: RuntimeEventInput) => void) {}

  /** Publishes `event` now, or once the instance's earlier events are out; a promise of one that rejects is dropped. */
  push(instance: string, event: RuntimeEventInput | Promise<RuntimeEventInput>): void {
    const before = this.waiting.get(instance);
    if (before === undefined && !(event instanceof Promise)) {
      this.publish(event);
      return;
    }
    const done: Promise<void> = (before ?? Promise.resolve())
      .then(() => event)
      .then(
        (ready) => this.publish(ready),
        () => undefined,
      )
      .finally(() => {
        if (this.waiting.get(instance) === done) this.waiting.delete(instance);
      });
    this.waiting.set(instance, done);
  }
}
