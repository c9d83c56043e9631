/**
 * Host endpoints as written in a HostAggregate: `unix:///var/lib/lxd/unix.socket` for a host the
 * operator runs on, `https://10.0.0.11:8443` for a remote one (port 8443 when omitted).
 */
export type HostEndpoint =
  | { readonly kind: 'unix'; readonly socketPath: string }
  | { readonly kind: 'https'; readonly hostname: string; readonly port: number };

export const DEFAULT_HTTPS_PORT = 8443;

export class InvalidEndpointError extends Error {
  constructor(endpoint: string, reason: string) {
    super(`invalid host endpoint ${JSON.stringify(endpoint)}: ${reason}`);
    this.name = 'InvalidEndpointError';
  }
}

export function parseEndpoint(endpoint: string): HostEndpoint {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new InvalidEndpointError(endpoint, 'not a URL (use unix:///path/to/unix.socket or https://host:port)');
  }
  if (url.protocol === 'unix:') return unixEndpoint(endpoint, url);
  if (url.protocol === 'https:') return httpsEndpoint(endpoint, url);
  throw new InvalidEndpointError(endpoint, `scheme ${url.protocol} is not supported (unix: or https:)`);
}

function unixEndpoint(endpoint: string, url: URL): HostEndpoint {
  if (url.host !== '') throw new InvalidEndpointError(endpoint, 'a unix endpoint has no host: unix:///absolute/path');
  const socketPath = decodeURIComponent(url.pathname);
  if (!socketPath.startsWith('/') || socketPath === '/') {
    throw new InvalidEndpointError(endpoint, 'a unix endpoint needs an absolute socket path');
  }
  return { kind: 'unix', socketPath };
}

function httpsEndpoint(endpoint: string, url: URL): HostEndpoint {
  if (url.pathname !== '/' && url.pathname !== '') {
    throw new InvalidEndpointError(endpoint, 'an https endpoint has no path');
  }
  // URL keeps IPv6 literals bracketed; node:net wants them bare.
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port === '' ? DEFAULT_HTTPS_PORT : Number(url.port);
  return { kind: 'https', hostname, port };
}

export function formatEndpoint(endpoint: HostEndpoint): string {
  if (endpoint.kind === 'unix') return `unix://${endpoint.socketPath}`;
  const host = endpoint.hostname.includes(':') ? `[${endpoint.hostname}]` : endpoint.hostname;
  return `https://${host}:${endpoint.port}`;
}
