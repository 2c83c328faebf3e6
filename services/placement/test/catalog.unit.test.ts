import { describe, expect, it } from 'vitest';
import catalogJson from '../src/catalog/instance-types.json' with { type: 'json' };
import { compareInstanceTypes, defaultCatalog, familyMemoryGiBPerVCpu, instanceTypeNamePattern, loadCatalog } from '../src/catalog/index.js';

/** The TypeScript twin of instance-types.json, exactly as the build reads it. */
function renderDataModule(json: typeof catalogJson): string {
  const entries = json.instanceTypes.map((entry) => `    ${JSON.stringify(entry)},`).join('\n');
  return [
    '// Generated from instance-types.json by test/catalog.unit.test.ts; do not edit.',
    '// After changing the JSON: npx vitest run --project unit services/placement -u (then once more without -u).',
    '',
    '/** The content of instance-types.json; loadCatalog (catalog.ts) checks the entries. */',
    'export const instanceTypesData: { readonly description: string; readonly source: string; readonly instanceTypes: readonly unknown[] } = {',
    `  description: ${JSON.stringify(json.description)},`,
    `  source: ${JSON.stringify(json.source)},`,
    '  instanceTypes: [',
    entries,
    '  ],',
    '};',
    '',
  ].join('\n');
}

const sizeVCpus: Record<string, number> = {
  large: 2,
  xlarge: 4,
  '2xlarge': 8,
  '4xlarge': 16,
  '8xlarge': 32,
  '9xlarge': 36,
  '12xlarge': 48,
  '16xlarge': 64,
  '18xlarge': 72,
  '24xlarge': 96,
};

describe('instance-types.json', () => {
  it('is what the build reads (instance-types.data.ts; regenerate with -u)', async () => {
    await expect(renderDataModule(catalogJson)).toMatchFileSnapshot('../src/catalog/instance-types.data.ts');
  });

  it.each(catalogJson.instanceTypes.map((entry) => [entry.name, entry] as const))('%s has EC2 figures: name, family, generation, size and ratio agree', (name, entry) => {
    const parts = instanceTypeNamePattern.exec(name)?.groups;
    expect(parts).toBeDefined();
    expect(parts?.family).toBe(entry.family);
    expect(Number(parts?.generation)).toBe(entry.generation);
    // Graviton series end in g (c7g, m8g); Intel in i or nothing (m5, c7i); AMD in a (r7a).
    expect(entry.architecture).toBe(parts?.attributes === 'g' ? 'arm64' : 'x86_64');
    expect(entry.vCpus).toBe(sizeVCpus[parts?.size ?? '']);
    const ratio = familyMemoryGiBPerVCpu[entry.family as 'c' | 'm' | 'r'];
    expect(entry.memoryMiB).toBe(entry.vCpus * ratio * 1024);
  });

  it.each([
    ['c7g.large', 2, 4096],
    ['m7i.2xlarge', 8, 32768],
    ['r8g.24xlarge', 96, 786432],
    ['c5.9xlarge', 36, 73728],
    ['m6a.12xlarge', 48, 196608],
  ])('lists %s with %i vCPUs and %i MiB', (name, vCpus, memoryMiB) => {
    expect(defaultCatalog.get(name)).toMatchObject({ vCpus, memoryMiB });
  });

  it('covers every series of spec §5 on both architectures', () => {
    const series = new Set(defaultCatalog.types.map((type) => type.name.split('.')[0]));
    expect([...series].sort()).toEqual(
      ['c5', 'c6i', 'c6a', 'c7i', 'c7a', 'm5', 'm6i', 'm6a', 'm7i', 'm7a', 'r5', 'r6i', 'r6a', 'r7i', 'r7a', 'c6g', 'c7g', 'c8g', 'm6g', 'm7g', 'm8g', 'r6g', 'r7g', 'r8g'].sort(),
    );
  });

  it.each([
    ['c5', ['large', 'xlarge', '2xlarge', '4xlarge', '9xlarge', '12xlarge', '18xlarge', '24xlarge']],
    ['c7g', ['large', 'xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge']],
    ['m8g', ['large', 'xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge', '24xlarge']],
  ])('%s has the sizes EC2 sells from large to 24xlarge', (series, sizes) => {
    const names = defaultCatalog.types.filter((type) => type.name.startsWith(`${series}.`)).map((type) => type.name.split('.')[1]);
    expect(names).toEqual(sizes);
  });
});

describe('catalog queries', () => {
  it('keeps types smallest first, newest generation first among equals, then by name', () => {
    const types = defaultCatalog.types;
    for (let i = 1; i < types.length; i++) expect(compareInstanceTypes(types[i - 1]!, types[i]!)).toBeLessThan(0);
    expect(defaultCatalog.select({ architecture: 'arm64', families: ['c'] }).slice(0, 3).map((type) => type.name)).toEqual([
      'c8g.large',
      'c7g.large',
      'c6g.large',
    ]);
  });

  it.each<[Parameters<typeof defaultCatalog.select>[0], number]>([
    [{}, catalogJson.instanceTypes.length],
    [{ architecture: 'arm64' }, 66],
    [{ architecture: 'x86_64' }, 120],
    [{ architecture: 'x86_64', families: ['r'] }, 40],
    [{ families: ['m', 'r'] }, 124],
  ])('select(%j) finds %i types', (filter, count) => {
    expect(defaultCatalog.select(filter)).toHaveLength(count);
  });

  it('answers undefined for types it does not list', () => {
    expect(defaultCatalog.get('t3.large')).toBeUndefined();
    expect(defaultCatalog.get('c7g.medium')).toBeUndefined();
  });

  it.each<[unknown[], RegExp]>([
    [[{ name: 'c7g.medium', family: 'c', generation: 7, architecture: 'arm64', vCpus: 1, memoryMiB: 2048 }], /is not an EC2 type of size large or bigger/],
    [[{ name: 'c7g.large', family: 'm', generation: 7, architecture: 'arm64', vCpus: 2, memoryMiB: 4096 }], /family m does not match the name/],
    [[{ name: 'c7g.large', family: 'c', generation: 6, architecture: 'arm64', vCpus: 2, memoryMiB: 4096 }], /generation 6 does not match/],
    [[{ name: 'c7g.large', family: 'c', generation: 7, architecture: 'sparc', vCpus: 2, memoryMiB: 4096 }], /architecture must be one of/],
    [[{ name: 'c7g.large', family: 'c', generation: 7, architecture: 'arm64', vCpus: 2.5, memoryMiB: 4096 }], /vCpus must be a positive integer/],
    [[{ name: 'c7g.large', family: 'c', generation: 7, architecture: 'arm64', vCpus: 2, memoryMiB: 4096 }, { name: 'c7g.large', family: 'c', generation: 7, architecture: 'arm64', vCpus: 2, memoryMiB: 4096 }], /entry 1: c7g.large is listed twice/],
    [[null], /entry 0: is not an object/],
  ])('refuses a malformed catalog (%#)', (entries, message) => {
    expect(() => loadCatalog(entries)).toThrow(message);
  });
});
