/**
 * How a TLS handshake with dockerd (`tlsverify`) fails, in the words each client prints: a test of a
 * refusal asserts the reason, so that a refusal for another reason (connection refused, a timeout, a
 * daemon that is down) fails it.
 *
 * dockerd is a Go program: the alert it sends depends on the Go release it was built with. The node
 * image's dockerd 20.10 (Debian bookworm, Go 1.19) sends `bad_certificate` (alert 42) both for a
 * missing client certificate and for one from another CA, also over TLS 1.3. Newer Go sends
 * `certificate_required` (116) for the first over TLS 1.3 and `unknown_ca` (48) for the second; those
 * are accepted too, so that a newer node image does not turn a right refusal into a failure.
 */

/** What the docker CLI (Go's crypto/tls as a client) prints on stderr. */
export const DOCKER_CLI_REFUSAL = {
  noClientCertificate: /remote error: tls: (bad certificate|certificate required)/,
  clientCertificateOfAnotherCa: /remote error: tls: (bad certificate|unknown certificate authority)/,
  /** The client's own verdict: the server's certificate is not from the CA the client trusts. */
  serverCertificateOfAnotherCa: /tls: failed to verify certificate: x509: certificate signed by unknown authority/,
} as const;

/** The `code` of the error Node's tls (OpenSSL) reports for the same handshakes. */
export const NODE_TLS_REFUSAL = {
  noClientCertificate: /^(ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE|ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED)$/,
  clientCertificateOfAnotherCa: /^(ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE|ERR_SSL_TLSV1_ALERT_UNKNOWN_CA)$/,
  /** The server sends only its leaf, which no certificate the client trusts has signed. */
  serverCertificateOfAnotherCa: /^UNABLE_TO_VERIFY_LEAF_SIGNATURE$/,
} as const;
