import { describe, expect, it } from 'vitest';
import { defaultZones, zoneOfSubnet, zonesOfProvider } from '@hearth/domain';

const zones = defaultZones('us-east-1');

describe('zones', () => {
  it('defaults to three zones a, b, c', () => {
    expect(zones).toEqual(['us-east-1a', 'us-east-1b', 'us-east-1c']);
  });

  it('prefers the explicit mapping', () => {
    const explicit = new Map([['subnet-1', 'us-east-1f']]);
    expect(zoneOfSubnet('subnet-1', { zones, explicit })).toBe('us-east-1f');
  });

  it('hashes other subnets stably onto the zone list', () => {
    const first = zoneOfSubnet('subnet-0abc', { zones });
    expect(zones).toContain(first);
    expect(zoneOfSubnet('subnet-0abc', { zones: [...zones] })).toBe(first);
    // FNV-1a of the id, modulo 3: fixed across processes and platforms.
    expect(['subnet-1', 'subnet-2', 'subnet-3'].map((id) => zoneOfSubnet(id, { zones }))).toEqual(['us-east-1c', 'us-east-1a', 'us-east-1b']);
  });

  it('spreads many subnets over every zone', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const zone = zoneOfSubnet(`subnet-${i.toString(16)}`, { zones });
      counts.set(zone, (counts.get(zone) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(zones);
    for (const count of counts.values()) expect(count).toBeGreaterThan(60);
  });

  it('lists a provider’s zones once each, sorted', () => {
    const explicit = new Map([
      ['subnet-a', 'us-east-1c'],
      ['subnet-b', 'us-east-1a'],
      ['subnet-c', 'us-east-1c'],
    ]);
    expect(zonesOfProvider({ VpcConfig: { SubnetIds: ['subnet-a', 'subnet-b', 'subnet-c'] } }, { zones, explicit })).toEqual([
      'us-east-1a',
      'us-east-1c',
    ]);
  });

  it('needs at least one zone', () => {
    expect(() => zoneOfSubnet('subnet-1', { zones: [] })).toThrow(RangeError);
  });
});
