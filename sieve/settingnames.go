package sieve

import "strings"

// settingNames are Pigeonhole's setting names (its sieve and sieve plugin
// settings, and the Dovecot settings Sieve reads) other than the vacation
// responder's, which package vacation knows. A name Pigeonhole knows is
// accepted even where it has no effect here (sieve_trace_dir, say), so a
// configuration copied from Dovecot loads; any other name is a typo.
var settingNames = map[string]bool{
	"sieve": true, "sieve_default": true, "sieve_default_name": true, "sieve_global": true,
	"sieve_dir": true, "sieve_global_dir": true, "sieve_global_path": true, "sieve_discard": true,
	"sieve_extensions": true, "sieve_global_extensions": true, "sieve_implicit_extensions": true,
	"sieve_plugins": true, "sieve_user_email": true, "sieve_user_log": true,
	"sieve_redirect_envelope_from": true, "sieve_redirect_duplicate_period": true,
	"sieve_max_script_size": true, "sieve_max_actions": true, "sieve_max_redirects": true,
	"sieve_max_cpu_time": true, "sieve_resource_usage_timeout": true,
	"sieve_quota_max_scripts": true, "sieve_quota_max_storage": true,
	"sieve_variables_max_scope_size": true, "sieve_variables_max_variable_size": true,
	"sieve_include_max_includes": true, "sieve_include_max_nesting_depth": true,
	"sieve_editheader_max_header_size": true, "sieve_editheader_protected": true,
	"sieve_editheader_forbid_add": true, "sieve_editheader_forbid_delete": true,
	"sieve_editheader_header":        true,
	"sieve_duplicate_default_period": true, "sieve_duplicate_max_period": true,
	"sieve_notify_mailto_envelope_from": true, "sieve_notify_max_notifications": true,
	"sieve_notify_mailto_max_recipients": true, "sieve_notify_mailto_max_headers": true,
	"sieve_report_from": true, "sieve_variables_max_value_size": true, "sieve_extlists_list": true,
	"sieve_pipe_bin_dir": true, "sieve_filter_bin_dir": true, "sieve_execute_bin_dir": true,
	"sieve_pipe_socket_dir": true, "sieve_filter_socket_dir": true, "sieve_execute_socket_dir": true,
	"sieve_pipe_exec_timeout": true, "sieve_filter_exec_timeout": true, "sieve_execute_exec_timeout": true,
	"sieve_pipe_input_eol": true, "sieve_filter_input_eol": true, "sieve_execute_input_eol": true,
	"sieve_filter_output_eol": true,
	"recipient_delimiter":     true, "postmaster_address": true, "hostname": true,
	"lda_mailbox_autocreate": true, "lda_mailbox_autosubscribe": true,
}

// settingFamilies are prefixes of setting names that take a suffix: a
// number (sieve_before2), a header or test name (sieve_editheader_header/X/,
// sieve_spamtest_text_value1), or a free name (sieve_environment_*).
var settingFamilies = []string{
	"sieve_before", "sieve_after", "sieve_trace_", "sieve_spamtest_", "sieve_virustest_",
	"sieve_editheader_header/", "sieve_environment_", "sieve_ext_",
	"sieve_environment/", "sieve_env_", "sieve_extlists_list/",
}

// IsSetting reports whether name is a setting of the Sieve engine (or one
// Pigeonhole knows that has no effect here). Vacation settings are
// package vacation's.
func IsSetting(name string) bool {
	if settingNames[name] {
		return true
	}
	for _, p := range settingFamilies {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
