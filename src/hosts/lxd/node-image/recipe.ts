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
export const RECIPE_REVISION = 4;

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

/**
 * Debian suites a node image is built from: bookworm (Docker 20.10) and trixie (Docker 26). An
 * aggregate moves its nodes from one to the other by a rolling upgrade (docs/hosts.md).
 */
export const NODE_IMAGE_SUITES = ['bookworm', 'trixie'] as const;
export type NodeImageSuite = (typeof NODE_IMAGE_SUITES)[number];

export const DEFAULT_SUITE: NodeImageSuite = 'bookworm';

/** The alias an image of the suite gets unless told otherwise: `marina-node/<suite>`. */
export const aliasOfSuite = (suite: NodeImageSuite): string => `marina-node/${suite}`;

/** trixie split the Docker CLI out of docker.io; bookworm's docker.io still carries it. */
const SUITE_PACKAGES: Readonly<Record<NodeImageSuite, readonly string[]>> = {
  bookworm: [],
  trixie: ['docker-cli'],
};

export function defaultRecipe(
  architecture: string = debianArchitecture(),
  suite: NodeImageSuite = DEFAULT_SUITE,
): NodeImageRecipe {
  return { suite, variant: 'minbase', architecture, packages: [...NODE_IMAGE_PACKAGES, ...SUITE_PACKAGES[suite]] };
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
