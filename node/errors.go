package node

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error returned by Call and Eval matches one of them
// with errors.Is, or is a *BadRPCError.
var (
	// ErrUnreachable: the node is not running, its host does not resolve,
	// there is no EPMD on its host, or it went down during the call.
	ErrUnreachable = errors.New("node unreachable")
	// ErrAuth: the node refused our cookie.
	ErrAuth = errors.New("wrong cookie")
	// ErrTimeout: the call's deadline passed before the node answered.
	ErrTimeout = errors.New("rpc deadline exceeded")
	// ErrBadAnswer: the node answered something we could not decode.
	ErrBadAnswer = errors.New("undecodable answer")
)

// UnreachableError says why a node could not be reached and what to do.
type UnreachableError struct {
	Node   string
	Reason string // what went wrong, e.g. "no EPMD on host db1 (port 4369)"
	Hint   string // what the user can do about it
}

func (e *UnreachableError) Error() string {
	if e.Hint == "" {
		return fmt.Sprintf("node %s unreachable: %s", e.Node, e.Reason)
	}
	return fmt.Sprintf("node %s unreachable: %s; %s", e.Node, e.Reason, e.Hint)
}

// Unwrap lets errors.Is(err, ErrUnreachable) match.
func (e *UnreachableError) Unwrap() error { return ErrUnreachable }

// AuthError says that a node refused our cookie.
type AuthError struct{ Node string }

func (e *AuthError) Error() string {
	return fmt.Sprintf("node %s refused the connection: wrong cookie; give the cluster's cookie with --cookie-file or MIM_METRICS_COOKIE", e.Node)
}

// Unwrap lets errors.Is(err, ErrAuth) match.
func (e *AuthError) Unwrap() error { return ErrAuth }

// BadRPCError is an exception raised by the remote function, the
// equivalent of rpc:call's {badrpc, {'EXIT', Reason}}.
type BadRPCError struct {
	Node     string
	Module   string
	Function string
	Class    string // error, exit
	Reason   string // the remote reason, printed like Erlang's ~p
}

func (e *BadRPCError) Error() string {
	return fmt.Sprintf("rpc %s:%s on %s: badrpc %s:%s", e.Module, e.Function, e.Node, e.Class, e.Reason)
}

// IsUndef reports whether the remote module or function does not exist.
func (e *BadRPCError) IsUndef() bool {
	return len(e.Reason) >= 5 && e.Reason[:5] == "undef" || len(e.Reason) >= 6 && e.Reason[:6] == "{undef"
}
