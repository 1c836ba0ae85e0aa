import { useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { apiKey } from '../api/queries';
import { useApiAction } from '../api/use-api-action';
import { FormField } from '../ui/form-field';
import { ErrorNotice } from '../ui/query-state';

/**
 * This control center has operators, and this window has not signed in as one: a name and
 * a password, nothing else. Each window (each browser tab in web mode) signs in on its own
 * connection; the password lives only in this form's state and the one session.signIn request.
 */
export function SignInScreen() {
  const queryClient = useQueryClient();
  const signIn = useApiAction('session.signIn');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const session = await signIn.run({ name: name.trim(), password });
    setPassword('');
    if (!session) return;
    queryClient.setQueryData(apiKey('session.whoami', {}), session);
    // Whatever was asked before signing in was refused: ask again as this operator.
    await queryClient.invalidateQueries();
  };

  return (
    <div className="splash">
      <form className="splash-card sign-in" data-testid="sign-in" onSubmit={(event) => void submit(event)}>
        <h1>Sign in</h1>
        <p>This control center has operators: sign in with your name and password. What you may do follows from your role.</p>
        <FormField label="Name">
          <input
            className="input"
            name="operator"
            autoComplete="username"
            autoFocus
            required
            value={name}
            onChange={(event) => setName(event.target.value)}
          />
        </FormField>
        <FormField label="Password">
          <input
            className="input"
            type="password"
            name="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
        </FormField>
        {signIn.state.status === 'error' ? <ErrorNotice title="Not signed in" error={signIn.state.error} /> : null}
        <div className="actions">
          <button type="submit" className="button button-primary" disabled={signIn.pending || name.trim() === '' || password === ''}>
            {signIn.pending ? 'Signing in…' : 'Sign in'}
          </button>
        </div>
      </form>
    </div>
  );
}
