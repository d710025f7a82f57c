import AsyncHTTPClient
import Tracing
import HTTPTypes
import NIOFoundationCompat
public enum _Placeholder {}
