// Package wsproto is the RFC 6455 WebSocket codec of lws for Go. It performs
// no I/O: it turns bytes into frames and events and back, and the service
// loop decides what to do with them.
//
// What it owns:
//
//   - the frame header codec ([Header], [PutHeader], [AppendHeader],
//     [ParseHeader], [AppendFrame]) and the protocol facts as typed values
//     ([Opcode], [CloseCode]) with predicates;
//   - payload masking, a word at a time ([Mask], [NewMaskKey]);
//   - incremental UTF-8 validation that keeps its state across writes
//     ([UTF8Validator]), used for text messages and close reasons;
//   - the close payload rules ([ParseClosePayload], [AppendClosePayload]);
//   - the opening handshake keys ([AcceptKey], [AppendAcceptKey],
//     [NewClientKey], [ValidClientKey]);
//   - the push [Parser], one type for both roles (libwebsockets'
//     lws_rx_sm), fed whatever bytes the socket produced and returning one
//     [Event] per call without allocating. Every protocol violation a peer can
//     cause is reported as a [*ProtocolError] carrying the close code to send
//     (1002, 1007 or 1009).
//
// Fragmented messages are delivered piece by piece as the bytes arrive, as
// libwebsockets does (lws_is_final_fragment, lws_remaining_packet_payload
// become [Event.FrameFin] and [Event.FrameRemaining]); reassembly and
// permessage-deflate live above this package.
//
// Memory: slices handed to or returned by the Parser are valid only until
// the next call to [Parser.Next] (a control frame's payload lives inside the
// Parser; a data payload is a subslice of the caller's buffer, unmasked in
// place). Nothing in this package retains a caller's slice after a call
// returns.
//
// Imports: the standard library only. This package must not import any other
// package of this module nor anything outside std, so that it can be fuzzed
// and reused alone.
package wsproto
