interface UserToken {
  email: string;
  revoked: boolean;
}

interface AccessTokenRecord extends UserToken {
  expiresAt: number;
}

/** Every refresh and access token of the user dies; answers how many refresh tokens were live. */
export function revokeUserTokens(
  refreshTokens: Map<string, UserToken>,
  accessTokens: Map<string, UserToken>,
  email: string,
): number {
  let count = 0;
  for (const r of refreshTokens.values())
    if (r.email === email && !r.revoked) {
      r.revoked = true;
      count++;
    }
  for (const a of accessTokens.values()) if (a.email === email) a.revoked = true;
  return count;
}

export function expireUserAccessTokens(accessTokens: Map<string, AccessTokenRecord>, email: string): number {
  let count = 0;
  for (const a of accessTokens.values()) {
    if (a.email === email && a.expiresAt > Date.now()) {
      a.expiresAt = 0;
      count++;
    }
  }
  return count;
}

/** The user a live access token belongs to; a deleted user's tokens are dead too. */
export function tokenOwner(
  accessTokens: Map<string, AccessTokenRecord>,
  accessToken: string | undefined,
  userExists: (email: string) => boolean,
): string | undefined {
  const record = accessToken ? accessTokens.get(accessToken) : undefined;
  if (!record || record.revoked || record.expiresAt <= Date.now() || !userExists(record.email)) return undefined;
  return record.email;
}
