//! The short syntaxes of compose, parsed into their long form: volumes
//! (`./data:/data:ro`) and ports (`127.0.0.1:8000-8001:80-81/udp`), as compose-go's
//! `format.ParseVolume` and Docker's `nat.ParsePortSpecs` read them.

use std::net::IpAddr;

use crate::model::{Port, ServiceVolume, VolumeBind, VolumeOptions};

/// `[source:]target[:options]`. A source starting with `.`, `/` or `~` is a bind mount,
/// another one a named volume; no source is an anonymous volume.
pub fn parse_volume(spec: &str) -> Result<ServiceVolume, String> {
    let mut volume = ServiceVolume::default();
    match spec.len() {
        0 => return Err("invalid empty volume spec".into()),
        1 | 2 => {
            volume.target = spec.to_owned();
            volume.kind = "volume".into();
            return Ok(volume);
        }
        _ => {}
    }
    let mut buffer = String::new();
    let mut braces = 0usize;
    let chars: Vec<char> = spec.chars().collect();
    for (i, c) in chars
        .iter()
        .copied()
        .chain(std::iter::once('\0'))
        .enumerate()
    {
        if c == '$' && chars.get(i + 1) == Some(&'{') {
            braces += 1;
            buffer.push(c);
            continue;
        }
        if c == '}' && braces > 0 {
            braces -= 1;
            buffer.push(c);
            continue;
        }
        let windows_drive =
            c == ':' && buffer.chars().count() == 1 && buffer.starts_with(char::is_alphabetic);
        if !windows_drive && (c == ':' || c == '\0') && braces == 0 {
            if let Err(message) = fill_volume_field(&mut volume, &buffer, c == '\0') {
                return Err(format!("invalid spec: {spec}: {message}"));
            }
            buffer.clear();
        } else {
            buffer.push(c);
        }
    }
    set_volume_type(&mut volume);
    Ok(volume)
}

fn fill_volume_field(volume: &mut ServiceVolume, field: &str, last: bool) -> Result<(), String> {
    if field.is_empty() {
        return Err("empty section between colons".into());
    }
    if volume.source.is_empty() && last {
        volume.target = field.to_owned();
    } else if volume.source.is_empty() {
        volume.source = field.to_owned();
    } else if volume.target.is_empty() {
        volume.target = field.to_owned();
    } else if !last {
        return Err("too many colons".into());
    } else {
        for option in field.split(',') {
            match option {
                "ro" => volume.read_only = true,
                "rw" => volume.read_only = false,
                "nocopy" => {
                    volume.volume = Some(VolumeOptions {
                        nocopy: true,
                        ..VolumeOptions::default()
                    })
                }
                "rprivate" | "private" | "rshared" | "shared" | "rslave" | "slave" => {
                    volume
                        .bind
                        .get_or_insert_with(VolumeBind::default)
                        .propagation = option.to_owned()
                }
                "z" | "Z" => {
                    volume.bind.get_or_insert_with(VolumeBind::default).selinux = option.to_owned()
                }
                _ => {}
            }
        }
    }
    Ok(())
}

fn set_volume_type(volume: &mut ServiceVolume) {
    let source = volume.source.as_str();
    let windows_drive = {
        let mut chars = source.chars();
        matches!((chars.next(), chars.next()), (Some(letter), Some(':')) if letter.is_alphabetic())
    };
    let is_path =
        source.starts_with(['.', '/', '~']) || source.starts_with("\\\\") || windows_drive;
    if is_path {
        volume.kind = "bind".into();
        volume
            .bind
            .get_or_insert_with(VolumeBind::default)
            .create_host_path = true;
    } else {
        volume.kind = "volume".into();
        volume.volume.get_or_insert_with(VolumeOptions::default);
    }
}

/// One port spec, as one long-form entry per container port. Entries come sorted by
/// `port/protocol` as text, as Docker's parser returns them.
pub fn parse_ports(spec: &str) -> Result<Vec<Port>, String> {
    let (raw, protocol) = match spec.rsplit_once('/') {
        Some((raw, protocol)) => (raw, protocol),
        None => (spec, "tcp"),
    };
    let parts: Vec<&str> = raw.split(':').collect();
    let (ip, host, container) = match parts.len() {
        1 => ("".to_owned(), "", parts[0]),
        2 => ("".to_owned(), parts[0], parts[1]),
        3 => (parts[0].to_owned(), parts[1], parts[2]),
        n => (parts[..n - 2].join(":"), parts[n - 2], parts[n - 1]),
    };
    let ip = match ip.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')) {
        Some(inner) => inner.to_owned(),
        None => ip,
    };
    if !ip.is_empty() && ip.parse::<IpAddr>().is_err() {
        return Err(format!("invalid IP address: {ip}"));
    }
    if container.is_empty() {
        return Err(format!("no port specified: {raw}<empty>"));
    }
    let (start, end) =
        port_range(container).ok_or_else(|| format!("invalid containerPort: {container}"))?;
    let (host_start, host_end) = if host.is_empty() {
        (0, 0)
    } else {
        port_range(host).ok_or_else(|| format!("invalid hostPort: {host}"))?
    };
    if !host.is_empty() && end - start != host_end - host_start && end != start {
        return Err(format!(
            "invalid ranges specified for container and host Ports: {container} and {host}"
        ));
    }
    let protocol = protocol.to_ascii_lowercase();
    if !matches!(protocol.as_str(), "tcp" | "udp" | "sctp") {
        return Err(format!("invalid proto: {protocol}"));
    }
    let mut ports: Vec<Port> = (0..=end - start)
        .map(|offset| {
            let mut published = if host.is_empty() {
                String::new()
            } else {
                (host_start + offset).to_string()
            };
            if start == end && host_start != host_end {
                published = format!("{published}-{host_end}");
            }
            Port {
                mode: "ingress".into(),
                host_ip: ip.clone(),
                target: u32::from(start) + u32::from(offset),
                published,
                protocol: protocol.clone(),
                ..Port::default()
            }
        })
        .collect();
    ports.sort_by_key(|port| format!("{}/{}", port.target, port.protocol));
    Ok(ports)
}

/// `80` or `8000-8010`.
fn port_range(text: &str) -> Option<(u16, u16)> {
    match text.split_once('-') {
        Some((start, end)) => {
            let (start, end) = (start.parse().ok()?, end.parse().ok()?);
            (end >= start).then_some((start, end))
        }
        None => text.parse().ok().map(|port| (port, port)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_short_syntax() {
        let bind = parse_volume("./data:/data:ro,z").unwrap();
        assert_eq!(
            (bind.kind.as_str(), bind.source.as_str()),
            ("bind", "./data")
        );
        assert!(bind.read_only);
        let bind_options = bind.bind.unwrap();
        assert!(bind_options.create_host_path);
        assert_eq!(bind_options.selinux, "z");

        let named = parse_volume("db:/var/lib/postgresql/data:nocopy").unwrap();
        assert_eq!(named.kind, "volume");
        assert!(named.volume.unwrap().nocopy);

        let anonymous = parse_volume("/cache").unwrap();
        assert_eq!(
            (anonymous.kind.as_str(), anonymous.target.as_str()),
            ("volume", "/cache")
        );
        assert!(anonymous.source.is_empty());

        assert!(parse_volume("vol:/a:ro:x")
            .unwrap_err()
            .contains("too many colons"));
        assert!(parse_volume("vol::/b")
            .unwrap_err()
            .contains("empty section"));
    }

    #[test]
    fn port_short_syntax() {
        let ports = parse_ports("127.0.0.1:8000-8001:80-81/UDP").unwrap();
        assert_eq!(ports.len(), 2);
        assert_eq!(ports[0].host_ip, "127.0.0.1");
        assert_eq!((ports[1].target, ports[1].published.as_str()), (81, "8001"));
        assert_eq!(ports[0].protocol, "udp");

        let ranged = parse_ports("9000-9010:80").unwrap();
        assert_eq!(ranged[0].published, "9000-9010");

        let ipv6 = parse_ports("[::1]:80:80").unwrap();
        assert_eq!(ipv6[0].host_ip, "::1");

        assert_eq!(parse_ports("80").unwrap()[0].published, "");
        assert!(parse_ports("x:80").is_err());
        assert!(parse_ports("80-81:90-99").is_err());
        assert!(parse_ports("80/icmp").is_err());
    }
}
