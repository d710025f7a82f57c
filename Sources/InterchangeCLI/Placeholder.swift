import ArgumentParser
import ServiceLifecycle
import Yams
public enum _Placeholder {}
