// The visible-text rules live with the runtime's wire module, which imports nothing, so the
// runtime's own CLI shares them; the contract (backend, CLI, renderer) re-exports them.
export { visibleJson, visibleLines, visibleStrings, visibleText } from '../../agents-runtime/src/wire/visible-text';
