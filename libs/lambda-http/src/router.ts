import { compilePathTemplate, decodePathSegments, matchPathTemplate, type PathTemplate } from './path-template.js';
import { lambdaRoutes, type LambdaRoute, type OperationName } from './routes.js';

/** The result of looking a request up: a target with its path labels, a path served under other methods, or nothing. */
export type RouteLookup<T> =
  | { readonly kind: 'match'; readonly target: T; readonly params: Readonly<Record<string, string>> }
  | { readonly kind: 'method-not-allowed'; readonly allowed: readonly string[] }
  | { readonly kind: 'not-found' };

interface Entry<T> {
  readonly method: string;
  readonly template: PathTemplate;
  readonly target: T;
}

/**
 * Matches a method and path against templates. Among templates that match
 * the path, the one with the most literal segments wins (so a catch-all extra
 * route never shadows a Lambda route); ties go to the earlier entry. The
 * method `*` matches any method.
 */
export class Router<T> {
  private readonly entries: Entry<T>[];

  constructor(entries: ReadonlyArray<{ method: string; path: string; target: T }>) {
    this.entries = entries
      .map(({ method, path, target }) => ({ method: method.toUpperCase(), template: compilePathTemplate(path), target }))
      .map((entry, order) => ({ entry, order }))
      .sort((a, b) => b.entry.template.specificity - a.entry.template.specificity || a.order - b.order)
      .map(({ entry }) => entry);
  }

  /** Looks up `path` (no query string). Throws InvalidParameterValueException on invalid percent-encoding. */
  lookup(method: string, path: string): RouteLookup<T> {
    const segments = decodePathSegments(path);
    const allowed = new Set<string>();
    for (const entry of this.entries) {
      const params = matchPathTemplate(entry.template, segments);
      if (params === undefined) continue;
      if (entry.method === '*' || entry.method === method) return { kind: 'match', target: entry.target, params };
      allowed.add(entry.method);
    }
    return allowed.size > 0 ? { kind: 'method-not-allowed', allowed: [...allowed].sort() } : { kind: 'not-found' };
  }
}

/** A request matched to a Lambda operation. */
export interface OperationMatch {
  readonly operation: OperationName;
  readonly route: LambdaRoute;
  /** Path labels, URI-decoded, by member name (`FunctionName`, `Name`, `CapacityProviderName`, `Resource`). */
  readonly params: Readonly<Record<string, string>>;
}

const lambdaRouter = new Router(lambdaRoutes.map((route) => ({ method: route.method, path: route.path, target: route })));

/**
 * The Lambda operation a request addresses, or undefined when none does
 * (unknown path or wrong method). `path` may carry a query string, which is
 * ignored. Throws InvalidParameterValueException on invalid percent-encoding.
 */
export function operationForRequest(method: string, path: string): OperationMatch | undefined {
  const lookup = lambdaRouter.lookup(method.toUpperCase(), path.split('?', 1)[0] ?? '');
  if (lookup.kind !== 'match') return undefined;
  return { operation: lookup.target.operation, route: lookup.target, params: lookup.params };
}
