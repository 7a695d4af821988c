/**
 * Turning a parsed YAML document into plain data with a bound on alias expansion. A "billion
 * laughs" file (aliases of aliases) would otherwise grow without limit; the `yaml` package stops
 * at `maxAliasCount` and throws a ReferenceError, which the file's loader must report as one line
 * about that file (exit 2), not as an unexpected failure with a stack trace (issue 8).
 */
import type { Document } from 'yaml';

/** Alias expansions allowed per document; hand-written configs and scenarios use a handful. */
export const MAX_ALIAS_COUNT = 100;

/** `doc.toJS()` with the alias limit; any failure becomes `fail(message)`'s error. */
export function yamlToJs(doc: Document, fail: (message: string) => Error): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    throw fail(((err as Error).message ?? String(err)).split('\n')[0]!);
  }
}
