/**
 * AllowedInstanceTypes / ExcludedInstanceTypes matching. Entries are EC2
 * instance type names in which `*` stands for any run of characters, as in
 * EC2 attribute-based instance type selection: `m7g.*` (a series), `c*` (a
 * family), `*.large` (a size), `m7g.2xlarge` (one type). Matching is
 * case-insensitive, as EC2 type names are.
 */

/** Tests names against one pattern. */
export type InstanceTypeMatcher = (name: string) => boolean;

/** Compiles one pattern; everything but `*` matches literally (a `.` is a dot). */
export function compileInstanceTypePattern(pattern: string): InstanceTypeMatcher {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\-]/g, '\\$&'))
    .join('.*');
  const regex = new RegExp(`^${source}$`, 'i');
  return (name) => regex.test(name);
}

/** Whether `name` matches `pattern`. Compile once with {@link compileInstanceTypePattern} to test many names. */
export function matchesInstanceTypePattern(name: string, pattern: string): boolean {
  return compileInstanceTypePattern(pattern)(name);
}

/** The allowed and excluded lists of a capacity provider's InstanceRequirements. */
export interface InstanceTypeLists {
  /** Types (with wildcards) the provider may use. Default empty: every type. */
  readonly AllowedInstanceTypes?: readonly string[];
  /** Types (with wildcards) the provider must not use. Default empty: none. */
  readonly ExcludedInstanceTypes?: readonly string[];
}

/**
 * A predicate for the lists: a name passes when the allowed list is empty or
 * one of its patterns matches, and no excluded pattern matches. (LMI accepts
 * only one of the lists; applying both keeps this total and harmless.)
 */
export function compileInstanceTypeLists(lists: InstanceTypeLists): InstanceTypeMatcher {
  const allowed = (lists.AllowedInstanceTypes ?? []).map(compileInstanceTypePattern);
  const excluded = (lists.ExcludedInstanceTypes ?? []).map(compileInstanceTypePattern);
  return (name) => (allowed.length === 0 || allowed.some((match) => match(name))) && !excluded.some((match) => match(name));
}
