import { useState } from 'preact/hooks';
import { errorMessage } from '../problems.ts';
import { useServices } from './common.tsx';

export function AuthPage({ notice }: { notice: string | null }) {
  const { session } = useServices();
  const [mode, setMode] = useState<'login' | 'register'>('login');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [info, setInfo] = useState<string | null>(notice);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (mode === 'register') {
        await session.register(username, password);
        setInfo('Account created. Signing you in…');
      }
      await session.login(username, password);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="auth" id="main">
      <h1>TorrentEdge</h1>
      <div class="tabs" role="tablist" aria-label="Account">
        <button role="tab" id="tab-login" aria-selected={mode === 'login'} aria-controls="auth-form" onClick={() => { setMode('login'); setError(null); }}>Log in</button>
        <button role="tab" id="tab-register" aria-selected={mode === 'register'} aria-controls="auth-form" onClick={() => { setMode('register'); setError(null); }}>Register</button>
      </div>
      <div id="auth-form" role="tabpanel" aria-labelledby={mode === 'login' ? 'tab-login' : 'tab-register'}>
      <form onSubmit={submit} aria-label={mode === 'login' ? 'Log in' : 'Register'}>
        <label for="username">User name</label>
        <input id="username" name="username" autocomplete="username" required value={username}
          onInput={e => setUsername((e.target as HTMLInputElement).value)} />
        <label for="password">Password</label>
        <input id="password" name="password" type="password" required
          autocomplete={mode === 'login' ? 'current-password' : 'new-password'} value={password}
          aria-describedby={mode === 'register' ? 'password-hint' : undefined}
          onInput={e => setPassword((e.target as HTMLInputElement).value)} />
        {mode === 'register' && <p id="password-hint" class="hint">At least 8 characters, of two kinds (letters, digits, symbols), not containing the user name. The first account becomes the administrator.</p>}
        {error && <p class="error" role="alert">{error}</p>}
        {info && !error && <p class="info" role="status">{info}</p>}
        <button type="submit" class="primary" disabled={busy}>{mode === 'login' ? 'Log in' : 'Create account'}</button>
      </form>
      </div>
    </main>
  );
}
