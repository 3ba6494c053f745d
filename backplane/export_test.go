package backplane

// The stream message format, for the external tests: they write a
// marker into a stream and read what a stream holds.
var (
	StreamEnvelope     = streamEnvelope
	OpenStreamEnvelope = openStreamEnvelope
)

// LastStored asks the stream for this server's last stored message, as
// the publisher does after a reconnect.
func (s *Stream) LastStored() (uint64, error) { return s.lastStored() }
