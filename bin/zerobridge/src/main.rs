fn main() {
    println!("zerobridge");
}
