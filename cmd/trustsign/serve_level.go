package main

import (
	"crypto/x509"
	"net/url"

	"github.com/trustsign/trustsign/revocation"
	"github.com/trustsign/trustsign/signing"
	"github.com/trustsign/trustsign/tsa"
)

// sealLevel sets the signing flow's level (serve --level) and, above b-b, its time-stamp client (--tsa, failover
// in order, one client whose keep-alive connections every seal reuses) and, for b-lt and b-lta, the revocation
// fetcher (one, so its cache of OCSP responses and CRLs serves every seal until their next update).
func sealLevel(c *serveConfig, sealCerts []*x509.Certificate, o *signing.Options) error {
	if c.level == "" {
		c.level = signing.LevelBB
	}
	level, err := signing.ParseLevel(c.level)
	if err != nil {
		return usageErr("--level: %v", err)
	}
	o.Level = level
	if level == signing.LevelBB {
		if len(c.tsaURLs) > 0 {
			return usageErr("--tsa applies to --level b-t, b-lt and b-lta")
		}
		return nil
	}
	if len(c.tsaURLs) == 0 {
		return usageErr("--level %s needs --tsa URL (TRUSTSIGN_TSA)", level)
	}
	for _, u := range c.tsaURLs {
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			return usageErr("--tsa %q is not an http(s) URL", u)
		}
	}
	if c.tsaTimeout <= 0 || c.fetchTimeout <= 0 {
		return usageErr("--tsa-timeout and --fetch-timeout must be positive")
	}
	o.TimeStamp = (&tsa.Client{URLs: c.tsaURLs, Timeout: c.tsaTimeout}).Stamp
	if level == signing.LevelBLT || level == signing.LevelBLTA {
		o.Validation = (&revocation.Fetcher{Timeout: c.fetchTimeout, Certificates: sealCerts}).Collect
	}
	return nil
}
