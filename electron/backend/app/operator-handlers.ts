import type { OperatorService } from '../operators/operator-service';
import type { MethodHandlers } from '../server/dispatcher';

export interface OperatorApiDeps {
  operators: OperatorService;
}

type OperatorMethod =
  'operators.list' | 'operators.add' | 'operators.set' | 'operators.remove' | 'session.signIn' | 'session.signOut' | 'session.whoami';

/** Operators and each pipe's sign-in (issue 14, item 1); who may call which is with-access.ts's. */
export function createOperatorHandlers({ operators }: OperatorApiDeps): Pick<MethodHandlers, OperatorMethod> {
  return {
    'operators.list': () => operators.list(),
    'operators.add': async (input, caller) => {
      const first = !operators.exist();
      const added = await operators.add(input);
      // Whoever adds the first operator acted as the bootstrap's admin: it goes on as that admin instead of being locked out.
      if (first) caller.session?.signIn(added.id);
      return added;
    },
    'operators.set': ({ name, ...update }) => operators.set(name, update),
    'operators.remove': ({ name }) => operators.remove(name),
    'session.signIn': async ({ name, password }, caller) => {
      const operator = await operators.verify(name, password);
      caller.session?.signIn(operator.id);
      return operators.sessionOf(operator.id);
    },
    'session.signOut': (_params, caller) => {
      caller.session?.signOut();
      return operators.sessionOf(undefined);
    },
    'session.whoami': (_params, caller) => operators.sessionOf(caller.operator?.id),
  };
}
