import { createHash } from 'node:crypto';

/**
 * What goes into a node image. The cache key is a hash of this recipe plus RECIPE_REVISION, so a
 * changed package list or customisation gives a new image while an unchanged one is reused.
 */
export interface NodeImageRecipe {
  readonly suite: string;
  readonly variant: 'minbase';
  /** Debian architecture name (amd64, arm64). */
  readonly architecture: string;
  readonly packages: readonly string[];
}

/** Bump when rootfs customisation or packing changes in a way the recipe fields do not show. */
export const RECIPE_REVISION = 2;

export const DEFAULT_IMAGE_ALIAS = 'marina-node/bookworm';

/**
 * Docker (docker.io brings containerd, runc and the CLI), the networking swarm uses (iproute2,
 * iptables), an init that dockerd's unit runs under (systemd-sysv), a DHCP client started at boot by
 * ifupdown (the image has no address of its own; systemd-networkd would need dbus), and procps and
 * ca-certificates for a usable system.
 */
export const NODE_IMAGE_PACKAGES: readonly string[] = [
  'docker.io',
  'iproute2',
  'iptables',
  'ca-certificates',
  'procps',
  'systemd-sysv',
  'isc-dhcp-client',
  'ifupdown',
  'netbase',
];

export function defaultRecipe(architecture: string = debianArchitecture()): NodeImageRecipe {
  return { suite: 'bookworm', variant: 'minbase', architecture, packages: NODE_IMAGE_PACKAGES };
}

export function recipeHash(recipe: NodeImageRecipe): string {
  const canonical = JSON.stringify({
    revision: RECIPE_REVISION,
    suite: recipe.suite,
    variant: recipe.variant,
    architecture: recipe.architecture,
    packages: [...recipe.packages].sort(),
  });
  return createHash('sha256').update(canonical).digest('hex');
}

const DEBIAN_ARCH: Readonly<Record<string, string>> = { x64: 'amd64', arm64: 'arm64' };
/** LXD's architecture names in metadata.yaml. */
const LXD_ARCH: Readonly<Record<string, string>> = { amd64: 'x86_64', arm64: 'aarch64' };

export function debianArchitecture(nodeArch: string = process.arch): string {
  const arch = DEBIAN_ARCH[nodeArch];
  if (arch === undefined) throw new Error(`no node image for the ${nodeArch} architecture`);
  return arch;
}

export function lxdArchitecture(debianArch: string): string {
  const arch = LXD_ARCH[debianArch];
  if (arch === undefined) throw new Error(`no LXD architecture name for ${debianArch}`);
  return arch;
}
