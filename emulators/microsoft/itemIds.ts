import { createHash } from 'node:crypto';
import type { RequestHandler } from 'express';

/**
 * Outlook's two forms of an event's id, as Graph shows them
 * (https://learn.microsoft.com/en-us/graph/outlook-immutable-id): by default an id names the item
 * in its folder, and it changes when the item moves to another calendar or folder; a request with
 * `Prefer: IdType="ImmutableId"` gets (and may send) ids that never change. Both are accepted in
 * requests; answers show the form the request asked for. A subscription's notifications carry the
 * form asked for when it was created.
 *
 * The store keeps events under their immutable id; this turns them into the default form at the
 * edge (URLs in, JSON out). A default-form id from before a move names nothing any more.
 */

const IMMUTABLE = /AAMkAG[A-Za-z0-9_-]{140}AAA=/g;
const REGULAR = /AQMkAD[A-Za-z0-9_-]{86}AAA(?:=|%3D)/gi;

export function prefersImmutableIds(prefer: string | undefined): boolean {
  return /(^|[,;\s])IdType\s*=\s*"?ImmutableId"?/i.test(prefer ?? '');
}

export class ItemIds {
  /** Moves so far, by immutable id: the default-form id is derived from both. */
  private moves = new Map<string, number>();
  private byRegular = new Map<string, string>();

  regularOf(immutable: string): string {
    const generation = this.moves.get(immutable) ?? 0;
    const hash = (salt: string) =>
      createHash('sha256').update(`${immutable}:${generation}:${salt}`).digest('base64url');
    const regular = `AQMkAD${hash('a')}${hash('b')}AAA=`;
    this.byRegular.set(regular, immutable);
    return regular;
  }

  /** The item moved to another folder: its default-form id is a new one, the old one names nothing. */
  moved(immutable: string): void {
    for (const [regular, id] of this.byRegular) if (id === immutable) this.byRegular.delete(regular);
    this.moves.set(immutable, (this.moves.get(immutable) ?? 0) + 1);
  }

  /** Text (a JSON answer, a notification) with every event id in its default form. */
  toRegular(text: string): string {
    return text.replace(IMMUTABLE, (id) => this.regularOf(id));
  }

  /** A request URL with default-form ids turned into the store's; one from before a move is left, to be not found. */
  toImmutable(url: string): string {
    return url.replace(REGULAR, (id) => this.byRegular.get(id.replace(/%3D$/i, '=')) ?? id);
  }

  reset(): void {
    this.moves.clear();
    this.byRegular.clear();
  }
}

/** Marks the request's id form and turns the ids in its URL into the store's. */
export function idForm(ids: ItemIds): RequestHandler {
  return (req, res, next) => {
    const immutable = prefersImmutableIds(req.get('prefer'));
    res.locals.regularIds = !immutable;
    if (!immutable) req.url = ids.toImmutable(req.url);
    next();
  };
}
