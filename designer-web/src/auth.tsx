// The signed-in user: loaded from /auth/me on start, set by login, cleared on logout or
// on any 401.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, pruneActingRoles, setCsrfToken, setUnauthenticatedHandler } from './api/client.ts';
import type { Me } from './api/types.ts';
import { resetDirectory } from './forms/directory.ts';

interface Session {
  me: Me | null;
  loading: boolean;
  login: (username: string, password: string) => Promise<void>;
  logout: () => Promise<void>;
  isAdmin: boolean;
}

const Ctx = createContext<Session | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<Me | null>(null);
  const [loading, setLoading] = useState(true);

  const refresh = useCallback(async () => {
    try {
      const m = await api<Me>('/auth/me');
      setCsrfToken(m.csrf_token ?? null);
      pruneActingRoles(m.roles ?? {});
      setMe(m);
    } catch {
      setMe(null);
    }
  }, []);

  useEffect(() => {
    setUnauthenticatedHandler(() => {
      setCsrfToken(null);
      setMe(null);
    });
    refresh().finally(() => setLoading(false));
    return () => setUnauthenticatedHandler(null);
  }, [refresh]);

  const value = useMemo<Session>(
    () => ({
      me,
      loading,
      isAdmin: me?.platform_role === 'admin',
      login: async (username, password) => {
        const r = await api<{ csrf_token: string }>('/auth/login', { body: { username, password } });
        setCsrfToken(r.csrf_token);
        resetDirectory();
        await refresh();
      },
      logout: async () => {
        try {
          await api('/auth/logout', { method: 'POST' });
        } finally {
          setCsrfToken(null);
          setMe(null);
        }
      },
    }),
    [me, loading, refresh],
  );
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useSession(): Session {
  const v = useContext(Ctx);
  if (!v) throw new Error('useSession outside SessionProvider');
  return v;
}
