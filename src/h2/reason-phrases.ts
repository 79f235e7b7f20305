/**
 * Reason phrases of HTTP status codes, for HTTP/1.1 status lines and error pages. The IANA HTTP
 * Status Code Registry's names (RFC 9110 §15 and the RFCs it lists), spelled as they were before
 * RFC 9110 renamed 413 and 422, and 418 and 509, which the registry does not name: the codes and
 * spellings of Node's `http.STATUS_CODES`, which h2kit used, so that its pages and status lines stay
 * the same (a test compares the two). Kept here so that a server does not load Node's
 * whole HTTP/1 stack (node:http and its agent, client and server) for one table: about 0.6 MiB of
 * resident memory in h2serve.
 */
const PHRASES: Readonly<Record<number, string>> = {
  100: 'Continue',
  101: 'Switching Protocols',
  102: 'Processing',
  103: 'Early Hints',
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  203: 'Non-Authoritative Information',
  204: 'No Content',
  205: 'Reset Content',
  206: 'Partial Content',
  207: 'Multi-Status',
  208: 'Already Reported',
  226: 'IM Used',
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  304: 'Not Modified',
  305: 'Use Proxy',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  411: 'Length Required',
  412: 'Precondition Failed',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable',
  417: 'Expectation Failed',
  418: "I'm a Teapot",
  421: 'Misdirected Request',
  422: 'Unprocessable Entity',
  423: 'Locked',
  424: 'Failed Dependency',
  425: 'Too Early',
  426: 'Upgrade Required',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  451: 'Unavailable For Legal Reasons',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
  506: 'Variant Also Negotiates',
  507: 'Insufficient Storage',
  508: 'Loop Detected',
  509: 'Bandwidth Limit Exceeded',
  510: 'Not Extended',
  511: 'Network Authentication Required',
};

/** The reason phrase of `status`, or undefined for a code without one. */
export function reasonPhrase(status: number): string | undefined {
  return Object.hasOwn(PHRASES, status) ? PHRASES[status] : undefined;
}

/** Every code with a phrase, ascending (for tests and listings). */
export function reasonPhraseCodes(): number[] {
  return Object.keys(PHRASES).map(Number);
}
