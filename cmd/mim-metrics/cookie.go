package main

import (
	"os"
	"strings"
)

// readCookie finds the cluster's cookie: --cookie, then MIM_METRICS_COOKIE
// (unless --cookie-file is on the command line: flags win over the
// environment), then the cookie file. The cookie itself never appears in
// an error.
func readCookie(c *config) (string, error) {
	if c.cookie != "" && (c.cli["cookie"] || !c.cli["cookie-file"]) {
		return c.cookie, nil
	}
	path := c.cookieFile
	st, err := os.Stat(path)
	if err != nil {
		return "", usagef("cannot read the cookie file %s: %v; give the cluster's cookie with --cookie-file or MIM_METRICS_COOKIE", path, unwrapPathErr(err))
	}
	if st.IsDir() {
		return "", usagef("cookie file %s is a directory; give the file that holds the cluster's cookie", path)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return "", usagef("cookie file %s can be read by others (mode %04o); Erlang refuses such files too: chmod 400 %s", path, st.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", usagef("cannot read the cookie file %s: %v", path, unwrapPathErr(err))
	}
	cookie := strings.TrimSpace(string(b))
	if cookie == "" {
		return "", usagef("cookie file %s is empty; put the cluster's cookie in it (the value of -setcookie or the nodes' ~/.erlang.cookie)", path)
	}
	if strings.ContainsAny(cookie, "\n\r") {
		return "", usagef("cookie file %s holds more than one line; it must hold only the cookie", path)
	}
	return cookie, nil
}

func unwrapPathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
