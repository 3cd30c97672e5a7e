package transport

import (
	"fmt"
	"unicode/utf8"

	"github.com/emersion/go-smtp"
)

// badAddress returns the 501 for an address carrying a byte no mail
// address may hold: a control character (NUL included), DEL, or invalid
// UTF-8. Such an address can never be delivered, so the answer is
// permanent: a temporary one makes the client retry it for days. detail is
// the enhanced code's detail: 7 for the sender, 3 for a recipient (RFC
// 3463: bad sender's / destination mailbox address syntax). nil means the
// address is acceptable as far as bytes go.
func badAddress(addr string, detail int, what string) error {
	for i := 0; i < len(addr); {
		r, n := utf8.DecodeRuneInString(addr[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			return &smtp.SMTPError{Code: 501, EnhancedCode: smtp.EnhancedCode{5, 1, detail},
				Message: fmt.Sprintf("Invalid UTF-8 in %s address at octet %d", what, i+1)}
		case r < 0x20 || r == 0x7f:
			return &smtp.SMTPError{Code: 501, EnhancedCode: smtp.EnhancedCode{5, 1, detail},
				Message: fmt.Sprintf("Control character 0x%02x in %s address at octet %d", r, what, i+1)}
		}
		i += n
	}
	return nil
}

// undeclaredUTF8 returns the 553 for a non-ASCII address in a transaction
// whose MAIL FROM did not declare SMTPUTF8 (RFC 6531 section 3.4; the
// reply is Postfix's). Accepted, such a recipient was queued with the
// others and the whole message then dropped by a relay without SMTPUTF8,
// the ASCII recipients with it; refused, only that one address is.
func undeclaredUTF8(addr string, declared bool) error {
	if declared || isASCII(addr) {
		return nil
	}
	return &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 6, 7},
		Message: "Must declare SMTPUTF8 to send unicode address"}
}
