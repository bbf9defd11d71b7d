import { useEffect, useState } from 'preact/hooks';
import { formatDate } from '../format.ts';
import type { User } from '../model.ts';
import { errorMessage } from '../problems.ts';
import { useServices } from './common.tsx';

/** The administrator's users page: roles, enabling and disabling accounts. */
export function UsersPage() {
  const { api, toast } = useServices();
  const [users, setUsers] = useState<User[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = () => api.users().then(setUsers).catch(e => setError(errorMessage(e)));
  useEffect(() => { void load(); }, []);
  const change = async (fn: () => Promise<unknown>, done: string) => {
    try { await fn(); toast(done); await load(); } catch (e) { toast(errorMessage(e), true); }
  };
  return (
    <main id="main" tabIndex={0} class="page">
      <h1>Users</h1>
      {error && <p class="error" role="alert">{error}</p>}
      {!users && !error && <p role="status">Loading…</p>}
      {users && (
        <table class="users">
          <thead><tr><th scope="col">User</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col">Created</th><th scope="col">Actions</th></tr></thead>
          <tbody>{users.map(u => (
            <tr>
              <th scope="row">{u.username}</th>
              <td>
                <select aria-label={`Role of ${u.username}`} value={u.role}
                  onChange={e => change(() => api.setUserRole(u.id, (e.target as HTMLSelectElement).value as 'admin' | 'user'), `${u.username}'s role changed.`)}>
                  <option value="admin">admin</option><option value="user">user</option>
                </select>
              </td>
              <td>{u.disabled ? 'disabled' : 'enabled'}</td>
              <td>{formatDate(u.createdAt)}</td>
              <td><button onClick={() => change(() => api.setUserEnabled(u.id, u.disabled), `${u.username} ${u.disabled ? 'enabled' : 'disabled'}.`)}>
                {u.disabled ? 'Enable' : 'Disable'}<span class="sr-only"> {u.username}</span></button></td>
            </tr>
          ))}</tbody>
        </table>
      )}
    </main>
  );
}
