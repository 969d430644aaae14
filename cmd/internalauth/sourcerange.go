package main

import (
	"net/netip"
	"strings"
)

// Prefix lengths below which an allowlist entry is reported as very wide:
// an IPv4 /8 already holds 16.7 million addresses, and an IPv6 /32 is a
// whole provider allocation.
const (
	wideIPv4Bits = 8
	wideIPv6Bits = 32
)

// setSourceRanges validates API_INTERNAL_RESTRICT_IP, a comma-separated
// list of CIDR ranges for Traefik's ipAllowList, and keeps each range in
// canonical form. A bare IP address is accepted, as Traefik accepts it,
// and rendered as a /32 or /128 range. An empty list turns the filter
// off, which is allowed but reported.
func (s *settings) setSourceRanges(value string) []finding {
	if strings.TrimSpace(value) == "" {
		return []finding{warningf(varRestrictIP, "not set, so the IP filter is off and any address that "+
			"reaches Traefik can connect to %s; set the callers' CIDR ranges, such as 10.0.0.0/8, unless "+
			"mTLS and the HMAC key are meant to be the only layers", varURL)}
	}

	var findings []finding

	for i, raw := range strings.Split(value, ",") {
		entry := strings.TrimSpace(raw)

		prefix, entryFindings := parseSourceRange(i+1, entry)
		findings = append(findings, entryFindings...)

		if prefix.IsValid() {
			s.sourceRanges = append(s.sourceRanges, prefix.String())
		}
	}

	return findings
}

// parseSourceRange parses the entry at position (from 1) of the list. It
// returns an invalid prefix when the entry is rejected.
func parseSourceRange(position int, entry string) (netip.Prefix, []finding) {
	if entry == "" {
		return netip.Prefix{}, []finding{errorf(varRestrictIP, "entry %d is empty; remove the extra comma", position)}
	}

	var findings []finding

	prefix, err := netip.ParsePrefix(entry)
	if err != nil {
		addr, addrErr := netip.ParseAddr(entry)
		if addrErr != nil || addr.Zone() != "" {
			return netip.Prefix{}, []finding{errorf(varRestrictIP, "entry %d: %q is not a CIDR range; "+
				"write it as 10.0.0.0/8 or 192.168.10.20/32", position, entry)}
		}

		prefix = netip.PrefixFrom(addr, addr.BitLen())
		findings = append(findings, warningf(varRestrictIP, "entry %d: %q is a bare IP address; "+
			"it is used as %s, write that to make the range explicit", position, entry, prefix))
	}

	if masked := prefix.Masked(); masked != prefix {
		findings = append(findings, warningf(varRestrictIP, "entry %d: %q has host bits set, so it admits "+
			"all of %s; write %s, or %s/%d for the single address", position, entry, masked, masked,
			prefix.Addr(), prefix.Addr().BitLen()))
		prefix = masked
	}

	return prefix, append(findings, checkRangeWidth(position, entry, prefix)...)
}

// checkRangeWidth warns about ranges that admit everything or a very
// large part of the address space. An IPv6 range whose network address
// is IPv4-mapped (::ffff:0:0/96 and longer) admits IPv4 clients too:
// Go's net.IPNet, which Traefik's allowlist uses, matches IPv4 addresses
// against the last 32 bits of such a range.
func checkRangeWidth(position int, entry string, prefix netip.Prefix) []finding {
	addr := prefix.Addr()
	bits := prefix.Bits()
	family := "IPv6"
	wide := wideIPv6Bits

	if addr.Is4() || addr.Is4In6() {
		family = "IPv4"
		wide = wideIPv4Bits

		if addr.Is4In6() {
			bits -= 96
		}
	}

	switch {
	case bits == 0:
		return []finding{warningf(varRestrictIP, "entry %d: %q admits every %s address, so it filters "+
			"nothing; list the automation hosts' ranges, or leave %s empty to disable the filter",
			position, entry, family, varRestrictIP)}
	case bits < wide:
		return []finding{warningf(varRestrictIP, "entry %d: %q is a very wide range (shorter than /%d); "+
			"list only the automation hosts' ranges", position, entry, wide)}
	}

	return nil
}
