package managesieve

import (
	"errors"
	"strconv"
)

// scriptCommand runs a command of the authenticated state; it returns
// false when the session ends.
func (c *conn) scriptCommand(name string, args []arg) bool {
	ctx := c.ctx()
	switch name {
	case "LISTSCRIPTS":
		if len(args) > 0 {
			return c.argsError(name, "Too many arguments")
		}
		list, err := c.sess.ListScripts(ctx)
		if err != nil {
			return c.failed(name, err)
		}
		for _, s := range list {
			c.bw.WriteString(quote(s.Name))
			if s.Active {
				c.bw.WriteString(" ACTIVE")
			}
			c.bw.WriteString("\r\n")
		}
		return c.reply("OK", "", "Listscripts completed.") == nil
	case "GETSCRIPT":
		s, ok := c.strArgs(name, args, 1, 1)
		if !ok || s == nil {
			return ok
		}
		src, err := c.sess.GetScript(ctx, s[0])
		if err != nil {
			return c.failed(name, err)
		}
		c.bw.WriteString("{" + strconv.Itoa(len(src)) + "}\r\n")
		c.bw.Write(src)
		c.bw.WriteString("\r\n")
		return c.reply("OK", "", "Getscript completed.") == nil
	case "PUTSCRIPT":
		if len(args) > 2 {
			return c.argsError(name, "Too many command arguments")
		}
		s, ok := c.strArgs(name, args, 2, 2)
		if !ok || s == nil {
			return ok
		}
		warn, err := c.sess.PutScript(ctx, s[0], []byte(s[1]))
		if err != nil {
			return c.failed(name, err)
		}
		return c.okWarnings(warn, "PUTSCRIPT completed.")
	case "CHECKSCRIPT":
		if len(args) == 0 {
			return c.argsError(name, "Invalid arguments")
		}
		s, ok := c.strArgs(name, args, 1, 1)
		if !ok || s == nil {
			return ok
		}
		warn, err := c.sess.CheckScript(ctx, []byte(s[0]))
		if err != nil {
			return c.failed(name, err)
		}
		return c.okWarnings(warn, "Script checked successfully.")
	case "SETACTIVE":
		s, ok := c.strArgs(name, args, 1, 1)
		if !ok || s == nil {
			return ok
		}
		if err := c.sess.SetActive(ctx, s[0]); err != nil {
			return c.failed(name, err)
		}
		if s[0] == "" {
			return c.reply("OK", "", "Active script is now deactivated.") == nil
		}
		return c.reply("OK", "", "Setactive completed.") == nil
	case "DELETESCRIPT":
		s, ok := c.strArgs(name, args, 1, 1)
		if !ok || s == nil {
			return ok
		}
		if err := c.sess.DeleteScript(ctx, s[0]); err != nil {
			return c.failed(name, err)
		}
		return c.reply("OK", "", "Deletescript completed.") == nil
	case "RENAMESCRIPT":
		s, ok := c.strArgs(name, args, 2, 2)
		if !ok || s == nil {
			return ok
		}
		if err := c.sess.RenameScript(ctx, s[0], s[1]); err != nil {
			return c.failed(name, err)
		}
		return c.reply("OK", "", "Renamescript completed.") == nil
	case "HAVESPACE":
		if len(args) < 2 {
			return c.argsError(name, "Missing arguments")
		}
		if len(args) > 2 {
			return c.argsError(name, "Too many arguments")
		}
		if !args[0].isString() {
			return c.argsError(name, "Invalid arguments")
		}
		size, err := strconv.ParseUint(args[1].s, 10, 63)
		if args[1].kind != argAtom || err != nil {
			return c.reply("NO", "", "Invalid scriptsize argument.") == nil
		}
		if err := c.sess.HaveSpace(ctx, args[0].s, int64(size)); err != nil {
			return c.failed(name, err)
		}
		return c.reply("OK", "", "Putscript would succeed.") == nil
	}
	return c.badCommand("Error in MANAGESIEVE command " + name + ": Unknown command.")
}

// okWarnings answers OK, with the compiler's warnings if any.
func (c *conn) okWarnings(warn, text string) bool {
	if warn != "" {
		return c.reply("OK", CodeWarnings, warn) == nil
	}
	return c.reply("OK", "", text) == nil
}

// failed answers a Session error: an *Error as it is, anything else as
// a temporary failure whose cause only the log shows.
func (c *conn) failed(cmd string, err error) bool {
	var e *Error
	if errors.As(err, &e) {
		return c.reply("NO", e.Code, e.Text) == nil
	}
	c.srv.log.Error("managesieve: command failed", c.logAttrs("command", cmd, "error", err)...)
	return c.reply("NO", CodeTryLater, "Internal error occurred. Refer to server log for more information.") == nil
}
