//! The apiserver binary. Until the API machinery lands (issue 4) it lists what it would serve.

fn main() {
    println!("kapi apiserver: {} kinds compiled from schemas/:", apiserver::KINDS.len());
    for k in apiserver::KINDS {
        let gv = if k.group.is_empty() { k.version.to_string() } else { format!("{}/{}", k.group, k.version) };
        println!("  {gv:<40} {:<24} {}", k.kind, k.plural);
    }
    eprintln!("serving is not implemented yet (see the API machinery issue); exiting");
    std::process::exit(1);
}
