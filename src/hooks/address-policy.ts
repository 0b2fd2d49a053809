/**
 * Where a client's webhook may point (issue 13, SSRF): public addresses only, unless the operator
 * lists the host in TESSERA_HOOK_ALLOWED_HOSTS (host names, IP addresses or CIDRs). The global hook
 * set in the environment is the operator's own and is not checked. Pure: no I/O here; the
 * connection-time check (hook-lookup.ts) applies the same rules to the addresses DNS returns.
 */
import net from 'node:net';

// Addresses that are not the public internet: this host, private networks, link-local (cloud
// metadata at 169.254.169.254), CGNAT, unspecified, multicast, reserved and documentation ranges,
// and IPv6 forms that carry an IPv4 address (mapped, NAT64, 6to4) or are private to a site.
const NOT_PUBLIC: Array<[string, number, 'ipv4' | 'ipv6']> = [
  ['0.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.0.2.0', 24, 'ipv4'],
  ['192.88.99.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['198.51.100.0', 24, 'ipv4'],
  ['203.0.113.0', 24, 'ipv4'],
  ['224.0.0.0', 4, 'ipv4'],
  ['240.0.0.0', 4, 'ipv4'],
  ['::', 128, 'ipv6'],
  ['::1', 128, 'ipv6'],
  ['64:ff9b::', 96, 'ipv6'],
  ['64:ff9b:1::', 48, 'ipv6'],
  ['100::', 64, 'ipv6'],
  ['2001:db8::', 32, 'ipv6'],
  ['2002::', 16, 'ipv6'],
  ['fc00::', 7, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['fec0::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
];

const ranges = new net.BlockList();
for (const [address, prefix, family] of NOT_PUBLIC) ranges.addSubnet(address, prefix, family);
// IPv4-mapped IPv6 (::ffff:a.b.c.d), refused whatever it maps to. Kept apart: a BlockList matches an
// IPv4 address against this IPv6 range too, which would refuse every IPv4 address.
const mapped = new net.BlockList();
mapped.addSubnet('::ffff:0:0', 96, 'ipv6');

const familyOf = (ip: string): 'ipv4' | 'ipv6' | undefined => (net.isIPv4(ip) ? 'ipv4' : net.isIPv6(ip) ? 'ipv6' : undefined);

const notPublic = (ip: string, family: 'ipv4' | 'ipv6') => ranges.check(ip, family) || (family === 'ipv6' && mapped.check(ip, 'ipv6'));

/** Whether an IP address (IPv4 dotted or IPv6, no brackets) is on the public internet. */
export function isPublicAddress(ip: string): boolean {
  const family = familyOf(ip);
  return family !== undefined && !notPublic(ip, family);
}

export type AddressPolicy = {
  /** A host name (lower case, no trailing dot) the operator allows whatever it resolves to. */
  allowsName(hostname: string): boolean;
  /** Whether a webhook may connect to this IP address. */
  allowsAddress(ip: string): boolean;
};

/** Host names, IPs or CIDRs, comma-separated; an entry that is none of them is a SettingsError's message. */
export function parseAllowedHosts(raw: string | undefined): { policy: AddressPolicy } | { error: string } {
  const names = new Set<string>();
  const allowed = new net.BlockList();
  for (const entry of (raw ?? '').split(',').map((e) => e.trim().toLowerCase()).filter(Boolean)) {
    const cidr = /^(.+)\/(\d{1,3})$/.exec(entry);
    const ip = (cidr ? cidr[1]! : entry).replace(/^\[(.*)\]$/, '$1');
    const family = familyOf(ip);
    if (family) {
      const prefix = cidr ? Number(cidr[2]) : family === 'ipv4' ? 32 : 128;
      if (prefix > (family === 'ipv4' ? 32 : 128)) return { error: `${entry}: the prefix is too long for an ${family} address` };
      allowed.addSubnet(ip, prefix, family);
    } else if (!cidr && /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/.test(entry)) {
      names.add(entry.replace(/\.$/, ''));
    } else {
      return { error: `${entry}: not a host name, an IP address or a CIDR` };
    }
  }
  return {
    policy: {
      allowsName: (hostname) => names.has(hostname.toLowerCase().replace(/\.$/, '')),
      allowsAddress: (ip) => {
        const family = familyOf(ip);
        return family !== undefined && (allowed.check(ip, family) || !notPublic(ip, family));
      },
    },
  };
}

/** Nothing exempt: public addresses only. */
export const PUBLIC_ONLY: AddressPolicy = (parseAllowedHosts('') as { policy: AddressPolicy }).policy;

/** The host of a parsed URL as an IP address (brackets removed), or undefined for a name. */
export function ipOfHost(hostname: string): string | undefined {
  const bare = hostname.replace(/^\[(.*)\]$/, '$1');
  return familyOf(bare) ? bare : undefined;
}

/**
 * Why a client's webhook URL is refused at registration, or undefined. WHATWG URL parsing has
 * already turned decimal, hex and octal IPv4 forms (2130706433, 0x7f000001, 0177.0.0.1) into dotted
 * ones, so the address checked is the one a connection would use. A name is checked again when
 * the hook is called, against what it resolves to then.
 */
export function hookUrlProblem(url: string, policy: AddressPolicy): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'must be an http:// or https:// URL';
  }
  if (u.username || u.password) return 'must not carry credentials: the hook signing secret authenticates Tessera';
  const host = u.hostname.toLowerCase().replace(/\.$/, '');
  if (policy.allowsName(host)) return undefined;
  const ip = ipOfHost(host);
  if (ip) return policy.allowsAddress(ip) ? undefined : `points to ${ip}, which is not a public address (list it in TESSERA_HOOK_ALLOWED_HOSTS to allow it)`;
  // Names that resolve to this host by definition (RFC 6761), whatever DNS says.
  if (host === 'localhost' || host.endsWith('.localhost')) return `points to ${host}, which is this host (list it in TESSERA_HOOK_ALLOWED_HOSTS to allow it)`;
  return undefined;
}
