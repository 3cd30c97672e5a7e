package sieve

import "strings"

// vnd.dovecot.environment: Dovecot's environment items for the
// environment test, and the "env" variables namespace (${env.NAME})
// reading any environment item, '_' standing for '-' in names. Off by
// default, as in Pigeonhole.
//
// Items: vnd.dovecot.default-mailbox (Env.Environment, else "INBOX"),
// vnd.dovecot.username (Env.Environment, else the envelope recipient) and
// vnd.dovecot.config.NAME, the setting sieve_environment/NAME (the older
// spelling sieve_env_NAME is read too).

func vndEnvironmentExtension() *extension {
	return &extension{name: "vnd.dovecot.environment", implies: []string{"environment"}}
}

// vndEnvironmentItem returns the value of a vnd.dovecot.* item.
func (r *run) vndEnvironmentItem(name string) (string, bool) {
	if !r.script.caps["vnd.dovecot.environment"] && !r.root.caps["vnd.dovecot.environment"] {
		return "", false
	}
	switch name {
	case "vnd.dovecot.default-mailbox":
		if v, ok := r.env.Environment[name]; ok {
			return v, true
		}
		return "INBOX", true
	case "vnd.dovecot.username":
		return r.vndUser()
	}
	key, ok := strings.CutPrefix(name, "vnd.dovecot.config")
	if !ok {
		return "", false
	}
	key = strings.TrimPrefix(key, ".")
	if key == "" {
		return "", false
	}
	for k, v := range r.settings() {
		if n, ok := strings.CutPrefix(k, "sieve_environment/"); ok && strings.EqualFold(n, key) {
			return v, true
		}
		if n, ok := strings.CutPrefix(k, "sieve_env_"); ok && strings.EqualFold(n, key) {
			return v, true
		}
	}
	return "", false
}

// envVariable reads ${env.NAME}: the environment item NAME, or with '_'
// read as '-'; "" when there is none.
func (r *run) envVariable(name string) string {
	if v, ok := r.environmentItem(name); ok {
		return v
	}
	if strings.Contains(name, "_") {
		if v, ok := r.environmentItem(strings.ReplaceAll(name, "_", "-")); ok {
			return v
		}
	}
	return ""
}
