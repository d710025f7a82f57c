import Hummingbird
public enum _Placeholder {}
