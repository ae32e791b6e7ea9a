package node

import (
	"context"
	"errors"
	"fmt"
)

// Sentinel errors. Every error returned by Call and Eval matches one of them
// with errors.Is, or is a *BadRPCError. Every message starts with the node
// it is about ("node name@host ..."), once.
var (
	// ErrUnreachable: the node is not running, its host does not resolve,
	// there is no EPMD on its host, or it went down during the call.
	ErrUnreachable = errors.New("node unreachable")
	// ErrAuth: the node refused our cookie.
	ErrAuth = errors.New("wrong cookie")
	// ErrTimeout: the call's deadline passed before the node answered.
	ErrTimeout = errors.New("rpc deadline exceeded")
	// errBadAnswer: the node answered something we could not decode.
	errBadAnswer = errors.New("undecodable answer")
)

// unreachableError says why a node could not be reached and what to do.
type unreachableError struct {
	Node   string
	Reason string // what went wrong, e.g. "no EPMD on host db1 (port 4369)"
	Hint   string // what the user can do about it
}

func (e *unreachableError) Error() string {
	if e.Hint == "" {
		return fmt.Sprintf("node %s unreachable: %s", e.Node, e.Reason)
	}
	return fmt.Sprintf("node %s unreachable: %s; %s", e.Node, e.Reason, e.Hint)
}

// Unwrap lets errors.Is(err, ErrUnreachable) match.
func (e *unreachableError) Unwrap() error { return ErrUnreachable }

// authError says that a node refused our cookie.
type authError struct{ Node string }

func (e *authError) Error() string {
	return fmt.Sprintf("node %s refused the connection: wrong cookie; give the cluster's cookie with --cookie-file or MIM_METRICS_COOKIE", e.Node)
}

// Unwrap lets errors.Is(err, ErrAuth) match.
func (e *authError) Unwrap() error { return ErrAuth }

// timeoutError is a call that ended before the node answered: its
// deadline passed (ErrTimeout), or it was cancelled.
type timeoutError struct {
	node string
	ctx  error // context.DeadlineExceeded or context.Canceled
}

func (e *timeoutError) Error() string {
	if errors.Is(e.ctx, context.Canceled) {
		return fmt.Sprintf("node %s: the call was cancelled before it answered", e.node)
	}
	return fmt.Sprintf("node %s did not answer in time", e.node)
}

// Unwrap lets errors.Is match ErrTimeout and the context's error.
func (e *timeoutError) Unwrap() []error { return []error{ErrTimeout, e.ctx} }

// badAnswerError is an answer that could not be decoded or read.
type badAnswerError struct {
	node, what string
}

func (e *badAnswerError) Error() string {
	return fmt.Sprintf("node %s: %v: %s", e.node, errBadAnswer, e.what)
}

// Unwrap lets errors.Is(err, errBadAnswer) match.
func (e *badAnswerError) Unwrap() error { return errBadAnswer }

// BadRPCError is an exception raised by the remote function, the
// equivalent of rpc:call's {badrpc, {'EXIT', Reason}}.
type BadRPCError struct {
	Node     string
	Module   string // "erl_eval" for Eval
	Function string
	Class    string // error, exit
	Reason   string // the remote reason, printed like Erlang's ~p
}

func (e *BadRPCError) Error() string {
	if e.Module == "erl_eval" {
		return fmt.Sprintf("node %s: the evaluation raised %s:%s", e.Node, e.Class, e.Reason)
	}
	return fmt.Sprintf("node %s: %s:%s raised %s:%s", e.Node, e.Module, e.Function, e.Class, e.Reason)
}

// IsUndef reports whether the remote module or function does not exist.
func (e *BadRPCError) IsUndef() bool {
	return len(e.Reason) >= 5 && e.Reason[:5] == "undef" || len(e.Reason) >= 6 && e.Reason[:6] == "{undef"
}
