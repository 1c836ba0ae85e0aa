/**
 * The worker thread's entry (built to dist/backend/yaml-worker.cjs; run from source through
 * tsx under tests): parses the YAML tasks it is sent, one at a time, off the backend's event loop.
 */
import { parentPort } from 'node:worker_threads';
import { runYamlTask, type YamlTask } from './yaml-tasks';

parentPort?.postMessage({ ready: true });
parentPort?.on('message', (message: { id: number; task: YamlTask }) => {
  try {
    parentPort!.postMessage({ id: message.id, ok: true, result: runYamlTask(message.task) });
  } catch (error) {
    parentPort!.postMessage({ id: message.id, ok: false, error: String((error as Error)?.stack ?? error) });
  }
});
