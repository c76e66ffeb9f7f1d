import type { Knex } from 'knex';

/** A stand-in for a parameter while the query is compiled. */
class Param {
  constructor(readonly name: string) {}
}

/**
 * A query built with knex once, run many times with other values: compiling a builder with
 * subqueries each time cost the event loop more than PostgreSQL spent running the query. `build`
 * gets a stand-in for each parameter (use it where the value would go; an array of one stand-in for
 * an array of one value); where each landed among the compiled bindings is kept, and a run hands the
 * real values to db.raw in those places (constants stay). The query's shape must not depend on the values.
 */
export function compiledQuery<P extends Record<string, unknown>>(
  db: Knex,
  names: (keyof P & string)[],
  build: (params: P) => Knex.QueryBuilder | Knex.Raw,
): (values: P) => Knex.Raw {
  const stand = Object.fromEntries(names.map((name) => [name, new Param(name)])) as unknown as P;
  const { sql, bindings } = build(stand).toSQL();
  const places = bindings.map((b) => {
    if (b instanceof Param) return (values: P) => values[b.name as keyof P];
    if (Array.isArray(b) && b.every((item) => item instanceof Param))
      return (values: P) => b.map((item: Param) => values[item.name as keyof P]);
    // A constant of the query itself (a status it filters by): the same on every run.
    return () => b;
  });
  return (values) => db.raw(sql, places.map((place) => place(values)) as Knex.RawBinding[]);
}
