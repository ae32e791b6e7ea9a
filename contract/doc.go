// Package contract is what the sidecar and the receiver agree on: the
// catalog of events (each declared once, as a -metric attribute of the
// Erlang module of erl/ that gathers it), the wire formats that carry them
// (GA4 and UA, encoder and decoder side by side), and the interpretation
// of a node's events (Summary). Both programs import it; it links no
// Erlang distribution.
package contract
