//! Labeling, network, Xen and policy configuration statements.

use super::*;

simple_statements! {
    parser parse_fixed_labeling;
    /// Labels a file system by how it stores labels.
    FsUse "fsuse" "(fsuse xattr|task|trans FILESYSTEM CONTEXT)" {
        /// How.
        kind: FsUseKind as Plain,
        /// The file system type.
        fs: Word as Plain,
        /// The context.
        context: Context as Context,
    }
    /// Declares a named IP address.
    IpAddr "ipaddr" "(ipaddr NAME ADDRESS)" {
        /// Its name.
        name: Name as IpAddr,
        /// The address.
        address: IpAddress as Plain,
    }
    /// Labels a network interface and its packets.
    NetIfCon "netifcon" "(netifcon INTERFACE IF_CONTEXT PACKET_CONTEXT)" {
        /// The interface.
        interface: Word as Plain,
        /// The interface's context.
        if_context: Context as Context,
        /// Its packets' context.
        packet_context: Context as Context,
    }
    /// Labels a network node.
    NodeCon "nodecon" "(nodecon ADDRESS MASK CONTEXT)" {
        /// The address.
        address: IpArg as IpAddr,
        /// The mask.
        mask: IpArg as IpAddr,
        /// The context.
        context: Context as Context,
    }
    /// Labels a device tree path (Xen).
    DeviceTreeCon "devicetreecon" "(devicetreecon \"PATH\" CONTEXT)" {
        /// The path.
        path: QString as Plain,
        /// The context.
        context: Context as Context,
    }
    /// Declares an initial security identifier.
    Sid "sid" "(sid NAME)" {
        /// The SID.
        name: Name as Sid,
    }
    /// Orders the initial SIDs.
    SidOrder "sidorder" "(sidorder (SID...))" {
        /// The SIDs.
        order: Vec<Ref> as Sid,
    }
    /// Gives an initial SID its context.
    SidContext "sidcontext" "(sidcontext SID CONTEXT)" {
        /// The SID.
        sid: Ref as Sid,
        /// The context.
        context: Context as Context,
    }
    /// Turns MLS on or off.
    Mls "mls" "(mls true|false)" {
        /// On.
        enabled: bool as Plain,
    }
    /// What the kernel does with unknown classes and permissions.
    HandleUnknown "handleunknown" "(handleunknown allow|deny|reject)" {
        /// The action.
        action: UnknownAction as Plain,
    }
    /// Turns a policy capability on.
    PolicyCap "policycap" "(policycap NAME)" {
        /// The capability.
        name: Name as PolicyCap,
    }
}

/// Labels files: `(filecon "PATH" FILETYPE CONTEXT)`; an empty context
/// `()` means the files get no label.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FileCon {
    /// The path regular expression.
    pub path: QString,
    /// Which kind of file.
    pub file_type: FileType,
    /// The context, or `None` for `()`.
    pub context: Option<Context>,
    /// Where it was parsed from.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub span: Span,
}

/// Labels files of a file system without label support:
/// `(genfscon FILESYSTEM "PATH" [FILETYPE] CONTEXT)` (the file type since
/// libsepol 3.4).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct GenFsCon {
    /// The file system type.
    pub fs: Word,
    /// The path prefix.
    pub path: QString,
    /// Which kind of file, if restricted.
    pub file_type: Option<FileType>,
    /// The context.
    pub context: Context,
    /// Where it was parsed from.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub span: Span,
}

simple_statements! {
    parser parse_fixed_numbered_labeling;
    /// Labels ports. Ports are decimal, at most 65535.
    PortCon "portcon" "(portcon PROTOCOL PORT|(LOW HIGH) CONTEXT)" {
        /// tcp, udp, dccp or sctp.
        protocol: Protocol as Plain,
        /// A port or range.
        ports: NumberRange = crate::parse::port_range as Plain,
        /// The context.
        context: Context as Context,
    }
    /// Labels InfiniBand partition keys (hex allowed, at most 0xffff).
    IbPkeyCon "ibpkeycon" "(ibpkeycon SUBNET_PREFIX PKEY|(LOW HIGH) CONTEXT)" {
        /// The subnet prefix (an IPv6 address).
        subnet: IpAddress as Plain,
        /// A key or range.
        pkeys: NumberRange = crate::parse::pkey_range as Plain,
        /// The context.
        context: Context as Context,
    }
    /// Labels an InfiniBand end port (decimal, at most 255).
    IbEndPortCon "ibendportcon" "(ibendportcon DEVICE PORT CONTEXT)" {
        /// The device name.
        device: Word as Plain,
        /// The port.
        port: Number = crate::parse::ib_port as Plain,
        /// The context.
        context: Context as Context,
    }
    /// Labels I/O memory (Xen; 64-bit, hex allowed).
    IoMemCon "iomemcon" "(iomemcon ADDRESS|(LOW HIGH) CONTEXT)" {
        /// An address or range.
        addresses: NumberRange = crate::parse::iomem_range as Plain,
        /// The context.
        context: Context as Context,
    }
    /// Labels I/O ports (Xen; 32-bit, hex allowed).
    IoPortCon "ioportcon" "(ioportcon PORT|(LOW HIGH) CONTEXT)" {
        /// A port or range.
        ports: NumberRange = crate::parse::ioport_range as Plain,
        /// The context.
        context: Context as Context,
    }
    /// Labels a PCI device (Xen; 32-bit, hex allowed).
    PciDeviceCon "pcidevicecon" "(pcidevicecon DEVICE CONTEXT)" {
        /// The device.
        device: Number = crate::parse::pci_device as Plain,
        /// The context.
        context: Context as Context,
    }
    /// Labels a physical IRQ (Xen; decimal, 32-bit).
    PirqCon "pirqcon" "(pirqcon IRQ CONTEXT)" {
        /// The IRQ.
        irq: Number = crate::parse::pirq as Plain,
        /// The context.
        context: Context as Context,
    }
}
