package vacation

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vacationd/vacationd/mailaddr"
)

// Settings are the responder's administrator settings. Their names and
// defaults are Pigeonhole's; see [Settings.Set].
type Settings struct {
	// MinPeriod and MaxPeriod bound :days and :seconds
	// (sieve_vacation_min_period, 1d; sieve_vacation_max_period, 60d).
	// A MaxPeriod of 0 means no upper bound.
	MinPeriod time.Duration
	MaxPeriod time.Duration
	// DefaultPeriod applies when the script gives neither :days nor
	// :seconds (sieve_vacation_default_period, 7d).
	DefaultPeriod time.Duration
	// UseOriginalRecipient also looks for the original envelope recipient
	// in the message's address headers (sieve_vacation_use_original_recipient).
	UseOriginalRecipient bool
	// DontCheckRecipient replies even when none of the user's addresses is
	// in the message's address headers (sieve_vacation_dont_check_recipient,
	// or sieve_vacation_check_recipient=no).
	DontCheckRecipient bool
	// SendFromRecipient sends the reply with the user's address as SMTP MAIL
	// FROM instead of <> (sieve_vacation_send_from_recipient).
	SendFromRecipient bool
	// ToHeaderIgnoreEnvelope takes the reply's To from the first address
	// in Sender/Resent-From/From even when it is not the envelope sender
	// (sieve_vacation_to_header_ignore_envelope).
	ToHeaderIgnoreEnvelope bool
	// DefaultSubject is used when the script gives no :subject and the
	// message has no Subject (sieve_vacation_default_subject; empty means
	// "Automated reply").
	DefaultSubject string
	// DefaultSubjectTemplate builds the subject from the original one when
	// the script gives no :subject; %{subject} (or Dovecot 2.3's %$) stands
	// for the decoded original subject
	// (sieve_vacation_default_subject_template; empty means "Auto: %{subject}").
	DefaultSubjectTemplate string
	// UserEmail is the user's own address (sieve_user_email): looked for in
	// the address headers and used as From of replies to implicitly
	// delivered messages.
	UserEmail string
	// MaxSubjectCodePoints bounds the reply's Subject
	// (sieve_vacation_max_subject_codepoints); 0 means 256.
	MaxSubjectCodePoints int
	// PostmasterAddress is the From of last resort (postmaster_address;
	// empty means postmaster@ the recipient's domain).
	PostmasterAddress string

	// MaxRepliesPerAddress and MaxRepliesPerMinute are the backscatter
	// limits of a [RateLimit], which Pigeonhole does not have: replies per
	// destination address per hour, across all users
	// (sieve_vacation_max_replies_per_address, 10), and replies per minute
	// in all (sieve_vacation_max_replies_per_minute, 1000); 0 is no limit.
	MaxRepliesPerAddress int
	MaxRepliesPerMinute  int
}

// DefaultSettings returns Pigeonhole's defaults.
func DefaultSettings() Settings {
	return Settings{
		MinPeriod:            24 * time.Hour,
		MaxPeriod:            60 * 24 * time.Hour,
		DefaultPeriod:        7 * 24 * time.Hour,
		MaxRepliesPerAddress: 10,
		MaxRepliesPerMinute:  1000,
	}
}

// ErrUnknownSetting is returned by [Settings.Set] for a name that is not a
// vacation setting.
var ErrUnknownSetting = errors.New("unknown setting")

// Set sets the setting called name (Pigeonhole's name, e.g.
// "sieve_vacation_min_period") from its textual value. Durations are a
// number with an optional unit (s, m, h, d, w or their long forms: "1d",
// "60d", "90 mins", "0"); a bare number is seconds. Booleans are yes/no,
// true/false, y/n, 1/0. An unknown name gives an error wrapping
// [ErrUnknownSetting].
func (s *Settings) Set(name, value string) error {
	value = strings.TrimSpace(value)
	var err error
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "sieve_vacation_min_period":
		s.MinPeriod, err = ParseDuration(value)
	case "sieve_vacation_max_period":
		s.MaxPeriod, err = ParseDuration(value)
	case "sieve_vacation_default_period":
		s.DefaultPeriod, err = ParseDuration(value)
	case "sieve_vacation_use_original_recipient":
		s.UseOriginalRecipient, err = parseBool(value)
	case "sieve_vacation_dont_check_recipient":
		s.DontCheckRecipient, err = parseBool(value)
	case "sieve_vacation_check_recipient":
		var check bool
		check, err = parseBool(value)
		s.DontCheckRecipient = !check
	case "sieve_vacation_send_from_recipient":
		s.SendFromRecipient, err = parseBool(value)
	case "sieve_vacation_to_header_ignore_envelope":
		s.ToHeaderIgnoreEnvelope, err = parseBool(value)
	case "sieve_vacation_default_subject":
		s.DefaultSubject = value
	case "sieve_vacation_default_subject_template":
		s.DefaultSubjectTemplate = value
	case "sieve_vacation_max_subject_codepoints":
		var n uint64
		n, err = strconv.ParseUint(value, 10, 31)
		s.MaxSubjectCodePoints = int(n)
	case "sieve_vacation_max_replies_per_address":
		s.MaxRepliesPerAddress, err = parseCount(value)
	case "sieve_vacation_max_replies_per_minute":
		s.MaxRepliesPerMinute, err = parseCount(value)
	case "sieve_user_email":
		s.UserEmail = mailaddr.TrimAngle(value)
	case "postmaster_address":
		s.PostmasterAddress = mailaddr.TrimAngle(value)
	default:
		return fmt.Errorf("setting %q: %w", name, ErrUnknownSetting)
	}
	if err != nil {
		return fmt.Errorf("setting %s=%q: %w", name, value, err)
	}
	return nil
}

// IsSetting reports whether name is one of the responder's settings.
func IsSetting(name string) bool {
	var s Settings
	return !errors.Is(s.Set(name, ""), ErrUnknownSetting)
}

// ParseSettings reads the responder's settings from m (names that are not
// vacation settings are ignored, so the same map can carry the Sieve
// engine's settings) exactly as [ParseSettingsLenient] reads them, as
// Pigeonhole does, except that what Pigeonhole would ignore with a
// warning is an error naming the setting: the service refuses a
// configuration that would not do what it says.
func ParseSettings(m map[string]string) (Settings, error) {
	s, warn, err := ParseSettingsLenient(m)
	if err != nil {
		return s, err
	}
	if len(warn) > 0 {
		return s, errors.New(warn[0])
	}
	return s, nil
}

// ParseSettingsLenient is [ParseSettings] as Pigeonhole loads the
// settings: a boolean other than yes or no, or a duration other than a
// number with an optional s, m, h or d unit, is ignored with a warning;
// periods that violate min <= default <= max (max not 0) are replaced by
// the three defaults with a warning. Other invalid values are errors.
func ParseSettingsLenient(m map[string]string) (Settings, []string, error) {
	s := DefaultSettings()
	var warn []string
	for name, value := range m {
		key := strings.ToLower(strings.TrimSpace(name))
		v := strings.Trim(value, " \t")
		switch key {
		case "sieve_vacation_use_original_recipient", "sieve_vacation_dont_check_recipient",
			"sieve_vacation_check_recipient", "sieve_vacation_send_from_recipient",
			"sieve_vacation_to_header_ignore_envelope":
			if v == "" {
				continue
			}
			if !strings.EqualFold(v, "yes") && !strings.EqualFold(v, "no") {
				warn = append(warn, fmt.Sprintf("invalid boolean value for setting '%s': '%s'", name, v))
				continue
			}
		case "sieve_vacation_min_period", "sieve_vacation_max_period", "sieve_vacation_default_period":
			if v == "" {
				continue
			}
			d, ok := pigeonholeDuration(v)
			if !ok {
				warn = append(warn, fmt.Sprintf("invalid duration value for setting '%s': '%s'", name, v))
				continue
			}
			value = strconv.FormatInt(int64(d/time.Second), 10)
		case "sieve_vacation_max_subject_codepoints":
			if v == "" {
				continue
			}
			if _, err := strconv.ParseUint(v, 10, 31); err != nil {
				warn = append(warn, fmt.Sprintf("invalid unsigned integer value for setting '%s': '%s'", name, v))
				continue
			}
		}
		if err := s.Set(name, value); err != nil && !errors.Is(err, ErrUnknownSetting) {
			return s, warn, err
		}
	}
	if s.MaxPeriod > 0 && (s.MinPeriod > s.MaxPeriod || s.DefaultPeriod < s.MinPeriod || s.DefaultPeriod > s.MaxPeriod) {
		d := DefaultSettings()
		s.MinPeriod, s.MaxPeriod, s.DefaultPeriod = d.MinPeriod, d.MaxPeriod, d.DefaultPeriod
		warn = append(warn, "vacation extension: invalid settings: violated "+
			"sieve_vacation_min_period < sieve_vacation_default_period < sieve_vacation_max_period (using the defaults)")
	}
	return s, warn, nil
}

// pigeonholeDuration parses a duration as Pigeonhole 2.3 does: digits,
// then nothing or a unit of which only the first letter counts (s, m, h,
// d: "2days" is two days, "1 d" and "1w" are invalid).
func pigeonholeDuration(v string) (time.Duration, bool) {
	i := 0
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(v[:i], 10, 64)
	if err != nil {
		return 0, false
	}
	unit := time.Second
	if i < len(v) {
		switch v[i] | 0x20 {
		case 's':
		case 'm':
			unit = time.Minute
		case 'h':
			unit = time.Hour
		case 'd':
			unit = 24 * time.Hour
		default:
			return 0, false
		}
	}
	if n > int64((1<<63-1)/unit) {
		return 0, false
	}
	return time.Duration(n) * unit, true
}

// Validate reports settings Pigeonhole refuses: the periods must satisfy
// min <= default <= max unless max is 0 (no upper bound).
func (s Settings) Validate() error {
	if s.MinPeriod < 0 || s.MaxPeriod < 0 || s.DefaultPeriod < 0 {
		return errors.New("vacation settings: negative period")
	}
	if s.DefaultPeriod < s.MinPeriod {
		return fmt.Errorf("vacation settings: sieve_vacation_default_period (%v) is under sieve_vacation_min_period (%v)",
			s.DefaultPeriod, s.MinPeriod)
	}
	if s.MaxPeriod > 0 && (s.MinPeriod > s.MaxPeriod || s.DefaultPeriod > s.MaxPeriod) {
		return fmt.Errorf("vacation settings: violated sieve_vacation_min_period (%v) <= sieve_vacation_default_period (%v) <= sieve_vacation_max_period (%v)",
			s.MinPeriod, s.DefaultPeriod, s.MaxPeriod)
	}
	return nil
}

// Period is the reply period for a vacation action: its :days or :seconds
// clamped to [MinPeriod, MaxPeriod], or DefaultPeriod when neither was
// given. A period of 0 (possible only with MinPeriod 0) means a reply every
// time: nothing is recorded.
func (s Settings) Period(periodSet bool, period time.Duration) time.Duration {
	if !periodSet {
		period = s.DefaultPeriod
	}
	if period < s.MinPeriod {
		period = s.MinPeriod
	} else if s.MaxPeriod > 0 && period > s.MaxPeriod {
		period = s.MaxPeriod
	}
	return period
}

var durationUnits = map[string]time.Duration{
	"": time.Second, "s": time.Second, "sec": time.Second, "secs": time.Second,
	"second": time.Second, "seconds": time.Second,
	"m": time.Minute, "min": time.Minute, "mins": time.Minute,
	"minute": time.Minute, "minutes": time.Minute,
	"h": time.Hour, "hour": time.Hour, "hours": time.Hour,
	"d": 24 * time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour,
	"w": 7 * 24 * time.Hour, "week": 7 * 24 * time.Hour, "weeks": 7 * 24 * time.Hour,
}

// ParseDuration parses a Dovecot-style duration: a non-negative integer
// followed by an optional unit ("0", "3600", "1h", "1d", "60 days").
func ParseDuration(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	i := 0
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("invalid duration %q: want a number with an optional unit (s, m, h, d, w)", v)
	}
	n, err := strconv.ParseInt(v[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: %w", v, err)
	}
	unit, ok := durationUnits[strings.ToLower(strings.TrimSpace(v[i:]))]
	if !ok {
		return 0, fmt.Errorf("invalid duration %q: unknown unit %q", v, strings.TrimSpace(v[i:]))
	}
	if n > int64((1<<63-1)/unit) {
		return 0, fmt.Errorf("invalid duration %q: too large", v)
	}
	return time.Duration(n) * unit, nil
}

// parseCount reads a non-negative count; "" is 0.
func parseCount(v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(v, 10, 31)
	if err != nil {
		return 0, fmt.Errorf("invalid count %q: want a non-negative integer", v)
	}
	return int(n), nil
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "yes", "y", "true", "1", "on":
		return true, nil
	case "no", "n", "false", "0", "off", "":
		return false, nil
	}
	return false, fmt.Errorf("invalid boolean %q: want yes or no", v)
}
