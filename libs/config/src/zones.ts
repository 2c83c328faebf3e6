import { envList, envMap } from './env.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Where subnets are: the zones of the region and an explicit subnet → zone map. */
export interface ZoneConfig {
  /** Availability zones subnets map onto (`HEARTH_ZONES`). Default `<region>a,<region>b,<region>c`. */
  zones: string[];
  /** Explicit subnet → zone mapping (`HEARTH_SUBNET_ZONES=subnet-1=us-east-1a,…`); other subnets hash onto `zones`. */
  subnetZones: Map<string, string>;
}

/** Reads the zone settings every service that reasons about zones shares (api, placement). */
export function loadZoneConfig(region: string, env: Env = process.env): ZoneConfig {
  return {
    zones: envList('HEARTH_ZONES', ['a', 'b', 'c'].map((suffix) => `${region}${suffix}`), env),
    subnetZones: envMap('HEARTH_SUBNET_ZONES', env),
  };
}
