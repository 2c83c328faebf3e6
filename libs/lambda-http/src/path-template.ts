import { InvalidParameterValueException } from '@hearth/errors';

type Segment =
  | { readonly kind: 'literal'; readonly value: string }
  | { readonly kind: 'label'; readonly name: string }
  | { readonly kind: 'greedy'; readonly name: string };

/** A compiled path template such as `/2015-03-31/functions/{FunctionName}` or `/static/{file+}`. */
export interface PathTemplate {
  readonly source: string;
  readonly segments: readonly Segment[];
  /** Literal segments count; a template with more of them wins over one with labels in their place. */
  readonly specificity: number;
}

/**
 * Compiles a path template: literal segments, `{name}` labels (exactly one
 * non-empty segment) and, as the last segment only, `{name+}` (the rest of the
 * path, segments joined with `/`).
 */
export function compilePathTemplate(source: string): PathTemplate {
  if (!source.startsWith('/')) throw new Error(`Path template must start with "/": ${source}`);
  const parts = source.slice(1).split('/');
  const segments = parts.map((part, index): Segment => {
    const label = /^\{([A-Za-z0-9_]+)(\+?)\}$/.exec(part);
    if (!label) return { kind: 'literal', value: part };
    const name = label[1] ?? '';
    if (label[2] !== '+') return { kind: 'label', name };
    if (index !== parts.length - 1) throw new Error(`Greedy label must be last: ${source}`);
    return { kind: 'greedy', name };
  });
  return { source, segments, specificity: segments.filter((segment) => segment.kind === 'literal').length };
}

/**
 * Splits a request path (no query) into URI-decoded segments. Decoding per
 * segment keeps an encoded `/` (`%2F`) inside its segment. Invalid
 * percent-encoding is InvalidParameterValueException (HTTP 400).
 */
export function decodePathSegments(path: string): string[] {
  return path
    .slice(1)
    .split('/')
    .map((raw) => {
      try {
        return decodeURIComponent(raw);
      } catch {
        throw new InvalidParameterValueException(
          `The request path segment '${raw.slice(0, 200)}' is not valid percent-encoding ` +
            '(allowed: %XX escapes of UTF-8 bytes).',
        );
      }
    });
}

/** The labels a template binds from the given decoded segments, or undefined when it does not match. */
export function matchPathTemplate(template: PathTemplate, segments: readonly string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  const last = template.segments.at(-1);
  const greedy = last?.kind === 'greedy';
  if (greedy ? segments.length < template.segments.length : segments.length !== template.segments.length) {
    return undefined;
  }
  for (const [index, segment] of template.segments.entries()) {
    const value = segments[index] ?? '';
    if (segment.kind === 'literal') {
      if (value !== segment.value) return undefined;
    } else if (segment.kind === 'label') {
      if (value === '') return undefined;
      params[segment.name] = value;
    } else {
      params[segment.name] = segments.slice(index).join('/');
    }
  }
  return params;
}
