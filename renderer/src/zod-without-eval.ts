import { z } from 'zod';

// zod compiles fast parsers with `new Function` when it may; our CSP has no
// 'unsafe-eval', and zod's probe for it is reported as a CSP violation even though
// zod copes. Imported first by main.tsx, before the contract parses anything.
z.config({ jitless: true });
