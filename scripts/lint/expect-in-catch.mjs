// An ESLint rule for tests: an `expect` inside a `catch` passes when nothing throws, so
// `try { act() } catch (e) { expect(e)... }` cannot fail on the bug it is meant to catch
// (two such tests stayed green while their subject stopped throwing). Allowed only in the
// shape that fails without a throw: the catch ends with `return`, and the statement right
// after the `try` throws or calls `expect.fail`/`expect.unreachable`. Otherwise use
// `expect(() => act()).toThrow(...)` or `await expect(promise).rejects...`.

function callsExpect(node) {
  let found = false;
  const visit = (n) => {
    if (found || n === null || typeof n !== 'object') return;
    if (Array.isArray(n)) return n.forEach(visit);
    if (n.type === 'CallExpression') {
      let callee = n.callee;
      while (callee.type === 'MemberExpression') callee = callee.object;
      while (callee.type === 'CallExpression') {
        callee = callee.callee;
        while (callee.type === 'MemberExpression') callee = callee.object;
      }
      if (callee.type === 'Identifier' && callee.name === 'expect') {
        found = true;
        return;
      }
    }
    for (const [key, value] of Object.entries(n)) if (key !== 'parent' && key !== 'loc' && key !== 'range') visit(value);
  };
  visit(node);
  return found;
}

function failsOutright(statement) {
  if (statement === undefined) return false;
  if (statement.type === 'ThrowStatement') return true;
  if (statement.type !== 'ExpressionStatement' || statement.expression.type !== 'CallExpression') return false;
  const callee = statement.expression.callee;
  return (
    callee.type === 'MemberExpression' &&
    callee.object.type === 'Identifier' &&
    callee.object.name === 'expect' &&
    callee.property.type === 'Identifier' &&
    (callee.property.name === 'fail' || callee.property.name === 'unreachable')
  );
}

export const expectInCatchRule = {
  meta: {
    type: 'problem',
    docs: { description: 'an expect inside catch must not pass when nothing throws' },
    schema: [],
    messages: {
      passesWithoutThrow:
        'This expect sits in a catch, so the test passes when nothing throws. Use expect(() => ...).toThrow(...) or `await expect(p).rejects`, or end the catch with `return` and throw right after the try.',
    },
  },
  create(context) {
    return {
      TryStatement(node) {
        const handler = node.handler;
        if (handler === null || !callsExpect(handler.body)) return;
        const body = handler.body.body;
        const endsWithReturn = body.length > 0 && body[body.length - 1].type === 'ReturnStatement';
        const siblings = Array.isArray(node.parent?.body) ? node.parent.body : [];
        const next = siblings[siblings.indexOf(node) + 1];
        if (endsWithReturn && failsOutright(next)) return;
        context.report({ node: handler, messageId: 'passesWithoutThrow' });
      },
    };
  },
};
