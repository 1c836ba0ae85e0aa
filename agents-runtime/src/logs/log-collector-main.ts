/**
 * The log collector's entry, FIFO_DIR and LOG_DIR its last two arguments: from source (tests)
 * `node --import tsx log-collector-main.ts FIFO_DIR LOG_DIR`; from the bundle, where
 * build-runtime.mjs bundles this file on its own into the daemon as text,
 * `node -e SOURCE -- FIFO_DIR LOG_DIR`.
 */
import { runLogCollector } from './log-collector';

const [fifoDir = '', logDir = ''] = process.argv.slice(-2);
void runLogCollector(fifoDir, logDir).then((code) => process.exit(code));
