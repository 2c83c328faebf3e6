/**
 * The instance-type catalog: the data of `instance-types.json`, checked once
 * when loaded, kept in placement's preference order, and queried by name,
 * architecture and family.
 *
 * The JSON is the source of truth. `instance-types.data.ts` is the same data as
 * a TypeScript module because the build (a composite project whose `include`
 * is `src`, i.e. `.ts` only) does not take JSON files; the catalog unit test
 * regenerates it with `-u` and fails when the two differ.
 */
import { architectures, type Architecture } from '@hearth/domain';
import { instanceFamilies, type InstanceFamily, type InstanceType } from './instance-type.js';
import { instanceTypesData } from './instance-types.data.js';

/**
 * EC2 names of the catalog's types: series (family letter, generation digits,
 * processor/feature letters) and a size of `large` or bigger.
 */
export const instanceTypeNamePattern = /^(?<family>[a-z])(?<generation>\d+)(?<attributes>[a-z]*)\.(?<size>(?:\d*x)?large)$/;

/** Which types a query wants; every member narrows, absent members do not. */
export interface CatalogFilter {
  readonly architecture?: Architecture;
  readonly families?: readonly InstanceFamily[];
}

/** A loaded catalog. Its lists are in {@link compareInstanceTypes} order and never change. */
export interface Catalog {
  /** Every type, smallest first (see {@link compareInstanceTypes}). */
  readonly types: readonly InstanceType[];
  /** The type of that EC2 name, or undefined when the catalog does not list it. */
  get(name: string): InstanceType | undefined;
  /** The types the filter admits, in {@link Catalog.types} order. */
  select(filter: CatalogFilter): InstanceType[];
}

/**
 * Placement's preference order: fewer vCPUs first, then less memory (the
 * smallest type that fits wastes least), then the newest generation (faster
 * per vCPU, and usually cheaper per unit of work), then the name, so that the
 * order is total and every decision is deterministic.
 */
export function compareInstanceTypes(a: InstanceType, b: InstanceType): number {
  return a.vCpus - b.vCpus || a.memoryMiB - b.memoryMiB || b.generation - a.generation || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

function fail(index: number, problem: string): never {
  throw new TypeError(`instance type catalog entry ${index}: ${problem}`);
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

/** Checks one raw entry; the name must agree with the family and generation it claims. */
function checkEntry(raw: unknown, index: number): InstanceType {
  if (typeof raw !== 'object' || raw === null) fail(index, 'is not an object');
  const entry = raw as Record<string, unknown>;
  const { name, family, generation, architecture, vCpus, memoryMiB } = entry;
  if (typeof name !== 'string') fail(index, 'name must be a string');
  const parts = instanceTypeNamePattern.exec(name)?.groups;
  if (parts === undefined) fail(index, `name ${JSON.stringify(name)} is not an EC2 type of size large or bigger`);
  if (!(instanceFamilies as readonly unknown[]).includes(family)) fail(index, `${name}: family must be one of ${instanceFamilies.join(', ')}`);
  if (parts.family !== family) fail(index, `${name}: family ${String(family)} does not match the name`);
  if (!isPositiveInteger(generation) || String(generation) !== parts.generation) fail(index, `${name}: generation ${String(generation)} does not match the name`);
  if (!(architectures as readonly unknown[]).includes(architecture)) fail(index, `${name}: architecture must be one of ${architectures.join(', ')}`);
  if (!isPositiveInteger(vCpus)) fail(index, `${name}: vCpus must be a positive integer`);
  if (!isPositiveInteger(memoryMiB)) fail(index, `${name}: memoryMiB must be a positive integer`);
  return Object.freeze({
    name,
    family: family as InstanceFamily,
    generation,
    architecture: architecture as Architecture,
    vCpus,
    memoryMiB,
  });
}

/**
 * Builds a catalog from raw entries (the `instanceTypes` of the JSON). Throws
 * a TypeError naming the first malformed or repeated entry: a bad catalog is a
 * build defect and must stop the service at startup, not mislead placement.
 */
export function loadCatalog(entries: readonly unknown[]): Catalog {
  const byName = new Map<string, InstanceType>();
  entries.forEach((raw, index) => {
    const type = checkEntry(raw, index);
    if (byName.has(type.name)) fail(index, `${type.name} is listed twice`);
    byName.set(type.name, type);
  });
  const types: readonly InstanceType[] = Object.freeze([...byName.values()].sort(compareInstanceTypes));
  return {
    types,
    get: (name) => byName.get(name),
    select: (filter) =>
      types.filter(
        (type) =>
          (filter.architecture === undefined || type.architecture === filter.architecture) &&
          (filter.families === undefined || filter.families.includes(type.family)),
      ),
  };
}

/** The catalog of `instance-types.json`: c, m and r families, large to 24xlarge, x86_64 and arm64. */
export const defaultCatalog: Catalog = loadCatalog(instanceTypesData.instanceTypes);
