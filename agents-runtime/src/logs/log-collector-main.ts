/**
 * The log collector's entry, FIFO_DIR, LOG_DIR and LIMITS (LogLimits as JSON) its last three
 * arguments: from source (tests) `node --import tsx log-collector-main.ts FIFO_DIR LOG_DIR LIMITS`;
 * from the bundle, where build-runtime.mjs bundles this file on its own into the daemon as
 * text, `node -e SOURCE -- FIFO_DIR LOG_DIR LIMITS`.
 */
import { parseLimitsArgument, runLogCollector } from './log-collector';

const [fifoDir = '', logDir = '', limits] = process.argv.slice(-3);
void runLogCollector(fifoDir, logDir, parseLimitsArgument(limits)).then((code) => process.exit(code));
