package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	_ "time/tzdata" // TZ=Etc/UTC and friends in an image without /usr/share/zoneinfo

	"github.com/vacationd/vacationd/delivery"
	"github.com/vacationd/vacationd/transport"
)

// mailuOptions are the settings of the Mailu profile (serve --mailu) and
// of the listeners it adds.
type mailuOptions struct {
	mailu           bool
	mailuAdmin      string
	lmtpAllow       string
	submission      string
	submissionAllow string
}

func (m *mailuOptions) flags(fs *flag.FlagSet) {
	fs.BoolVar(&m.mailu, "mailu", false, "Mailu profile: every setting not given is taken from Mailu's environment (ADMIN_ADDRESS, FRONT_ADDRESS, SMTP_ADDRESS, HOSTNAMES, DOMAIN, POSTMASTER, RECIPIENT_DELIMITER, SUBNET, SUBNET6, LOG_LEVEL); Dovecot runs the same script, so only vacation replies are sent")
	fs.StringVar(&m.mailuAdmin, "mailu-admin", "", "Mailu admin base URL for the profile's script source (default http://$ADMIN_ADDRESS:8080)")
	checked(fs, &m.lmtpAllow, "lmtp-allow", "", "TCP clients allowed on --lmtp (CIDR,...; empty: all)", checkPrefixes)
	fs.StringVar(&m.submission, "submission", "", "SMTP listener for Dovecot's submission_host (HOST:PORT; empty: off): drops Dovecot's duplicates of vacationd's replies, relays the rest through the outbox")
	checked(fs, &m.submissionAllow, "submission-allow", "127.0.0.0/8,::1/128", "TCP clients allowed on --submission (CIDR,...)", checkPrefixes)
}

func checkPrefixes(v string) error {
	if v == "" {
		return nil
	}
	_, err := transport.ParsePrefixes(v)
	return err
}

// mailuEnv is Mailu's environment, with the defaults Mailu's base image
// sets (a third-party image must set them itself).
type mailuEnv map[string]string

var mailuDefaults = map[string]string{
	"ADMIN_ADDRESS": "admin", "FRONT_ADDRESS": "front", "SMTP_ADDRESS": "smtp",
	"DOMAIN": "", "HOSTNAMES": "", "POSTMASTER": "postmaster", "RECIPIENT_DELIMITER": "",
	"SUBNET": "192.168.203.0/24", "SUBNET6": "", "LOG_LEVEL": "WARNING", "TZ": "Etc/UTC",
	"PROXY_PROTOCOL": "",
}

func readMailuEnv(environ []string) mailuEnv {
	e := mailuEnv{}
	for k, v := range mailuDefaults {
		e[k] = v
	}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			if _, known := mailuDefaults[k]; known && v != "" {
				e[k] = strings.TrimSpace(v)
			}
		}
	}
	return e
}

// mailuSieveSettings are Dovecot's Sieve settings in Mailu
// (core/dovecot/conf/dovecot.conf, plugin section).
var mailuSieveSettings = []string{
	"sieve_vacation_dont_check_recipient=yes",
	"sieve_vacation_send_from_recipient=yes",
	"sieve_vacation_to_header_ignore_envelope=yes",
	"sieve_spamtest_status_type=strlen",
	"sieve_spamtest_status_header=X-Spam-Level",
	"sieve_spamtest_max_value=15",
}

// mailuLogLevels maps Mailu's LOG_LEVEL (Python's names) to --log-level.
var mailuLogLevels = map[string]string{
	"CRITICAL": "error", "ERROR": "error", "WARNING": "warn", "WARN": "warn", "INFO": "info", "DEBUG": "debug",
}

// applyMailu sets every serve setting the command line, the environment
// (VACATIOND_*) and the config file left at its default from Mailu's
// environment. It is a no-op without --mailu.
func applyMailu(c *config, environ []string) error {
	o := c.opts
	if !o.mailu {
		return nil
	}
	env := readMailuEnv(environ)
	host, _, _ := strings.Cut(env["HOSTNAMES"], ",")
	host = strings.TrimSpace(host)
	domain := env["DOMAIN"]
	if host == "" {
		host, _ = os.Hostname()
	}
	if domain == "" {
		_, domain, _ = strings.Cut(host, ".")
	}
	var nets []string
	for _, name := range []string{"SUBNET", "SUBNET6"} {
		for _, p := range strings.Split(env[name], ",") {
			if p = strings.TrimSpace(p); p == "" {
				continue
			}
			if _, err := netip.ParsePrefix(p); err != nil {
				return fmt.Errorf("mailu profile: %s=%q: %v", name, env[name], err)
			}
			nets = append(nets, p)
		}
	}
	level, ok := mailuLogLevels[strings.ToUpper(env["LOG_LEVEL"])]
	if !ok {
		return fmt.Errorf("mailu profile: LOG_LEVEL=%q: want CRITICAL, ERROR, WARNING, INFO or DEBUG", env["LOG_LEVEL"])
	}
	if _, err := mailuProxyPorts(env["PROXY_PROTOCOL"]); err != nil {
		return fmt.Errorf("mailu profile: PROXY_PROTOCOL=%q: %v", env["PROXY_PROTOCOL"], err)
	}
	admin := o.mailuAdmin
	if admin == "" {
		admin = "http://" + env["ADMIN_ADDRESS"] + ":8080"
	}
	profile := []struct{ flag, value, from string }{
		{"lmtp", ":2525", ""},
		{"lmtp-allow", strings.Join(nets, ","), "SUBNET, SUBNET6"},
		{"script-source", "mailu:" + admin, "ADMIN_ADDRESS"},
		{"deliver-to", "lmtp:" + env["FRONT_ADDRESS"] + ":2525", "FRONT_ADDRESS"},
		{"relay", env["SMTP_ADDRESS"] + ":25", "SMTP_ADDRESS"},
		{"relay-tls", "none", ""},
		{"hostname", host, "HOSTNAMES"},
		{"recipient-delimiter", env["RECIPIENT_DELIMITER"], "RECIPIENT_DELIMITER"},
		{"extensions", "+spamtest +spamtestplus +editheader", ""},
		{"http", "0.0.0.0:8025", ""}, // /healthz and /metrics for Mailu's network; the admin API needs a token
		{"data", "/data", ""},
		{"log-level", level, "LOG_LEVEL"},
		{"submission", ":10025", ""},
		{"submission-allow", strings.Join(append(nets, "127.0.0.0/8", "::1/128"), ","), "SUBNET, SUBNET6"},
	}
	for _, p := range profile {
		if c.source(p.flag) != sourceDefault {
			continue
		}
		if p.flag == "script-source" && c.source("scripts") != sourceDefault {
			continue
		}
		if err := c.fs.Set(p.flag, p.value); err != nil {
			return fmt.Errorf("mailu profile: --%s %q: %w", p.flag, p.value, err)
		}
		from := "mailu profile"
		if p.from != "" {
			from += " (" + p.from + ")"
		}
		c.sources[p.flag] = source(from)
	}
	// Mailu's settings first, so -o given by the operator override them.
	set := append(append([]string(nil), mailuSieveSettings...), "hostname="+host)
	if domain != "" {
		// Without a domain (no DOMAIN, a host name without a dot), the
		// postmaster is the one of each recipient's domain, Pigeonhole's
		// default.
		set = append(set, "postmaster_address="+env["POSTMASTER"]+"@"+domain)
	}
	if d := env["RECIPIENT_DELIMITER"]; d != "" {
		set = append(set, "recipient_delimiter="+d)
	}
	o.settings = append(listFlag(set), o.settings...)
	if c.source("o") == sourceDefault {
		c.sources["o"] = "mailu profile"
	}
	return nil
}

// mailuProxyPorts reads PROXY_PROTOCOL: a comma list of ports, or mail,
// all-but-http, all. vacationd's paths never cross front, so it changes
// nothing but the log line that says so.
func mailuProxyPorts(v string) ([]string, error) {
	mail := []string{"25", "110", "995", "143", "993", "587", "465", "4190"}
	var out []string
	for _, p := range strings.Split(v, ",") {
		switch p = strings.TrimSpace(p); p {
		case "":
		case "mail":
			out = append(out, mail...)
		case "all-but-http":
			out = append(append(out, mail...), "443")
		case "all":
			out = append(append(out, mail...), "443", "80")
		default:
			for _, r := range p {
				if r < '0' || r > '9' {
					return nil, fmt.Errorf("%q: want port numbers, mail, all-but-http or all", p)
				}
			}
			out = append(out, p)
		}
	}
	return out, nil
}

// mailuShadow is the delivery service's Shadow in the Mailu profile:
// Dovecot runs the same script after vacationd, on the message with its
// LMTP Received field in front.
func mailuShadow(o *serveOptions) *delivery.Shadow {
	if !o.mailu {
		return nil
	}
	return &delivery.Shadow{Trace: delivery.DovecotTrace(hostname(o), nil)}
}

// logMailu says what the profile did with PROXY_PROTOCOL.
func logMailu(o *serveOptions, environ []string, log *slog.Logger) {
	if !o.mailu {
		return
	}
	ports, _ := mailuProxyPorts(readMailuEnv(environ)["PROXY_PROTOCOL"])
	for _, p := range ports {
		if p == "25" && o.relayProxy == "off" {
			log.Info("mailu: PROXY_PROTOCOL covers front:25; vacationd's replies go to --relay directly and Dovecot's through --submission, so neither crosses front",
				"relay", o.relay, "submission", o.submission)
		}
	}
}
