/**
 * Availability zones of subnets. Hearth has no EC2 to ask, so a subnet's zone
 * comes from the operator's explicit mapping or, failing that, from a stable
 * hash of the subnet id over the region's zones: the same subnet always lands
 * in the same zone, on every host and after every restart.
 */

/** How subnets map to zones. */
export interface ZoneMap {
  /** Zones of the region, in order; see {@link defaultZones}. Must not be empty. */
  readonly zones: readonly string[];
  /** Subnet id → zone, set by the operator; wins over the hash. Default: empty. */
  readonly explicit?: ReadonlyMap<string, string>;
}

/** Three zones `<region>a`, `<region>b`, `<region>c`, as most AWS regions have. */
export function defaultZones(region: string): string[] {
  return [`${region}a`, `${region}b`, `${region}c`];
}

// FNV-1a (32 bit): tiny, well spread for short ids, and identical on every platform.
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** The zone of a subnet: the explicit mapping if it has one, else a stable hash onto `zones`. */
export function zoneOfSubnet(subnetId: string, map: ZoneMap): string {
  const explicit = map.explicit?.get(subnetId);
  if (explicit !== undefined) return explicit;
  const zone = map.zones[fnv1a(subnetId) % map.zones.length];
  if (zone === undefined) throw new RangeError('zoneOfSubnet needs at least one zone in ZoneMap.zones');
  return zone;
}

/** The zones a capacity provider's subnets span, without repeats, sorted. */
export function zonesOfProvider(provider: { readonly VpcConfig: { readonly SubnetIds: readonly string[] } }, map: ZoneMap): string[] {
  return [...new Set(provider.VpcConfig.SubnetIds.map((subnetId) => zoneOfSubnet(subnetId, map)))].sort();
}
