#!/usr/bin/env python3
# Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
"""Writes cars.csv: the car-price fetcher's bundled input.

Real makes and models sold in the US; years, mileages, colours and states
drawn with a fixed seed (so the file is reproducible: python3 make_cars.py).
Mileage follows the car's age at about 12,000 miles a year, with spread.
"""
import csv
import random
import sys

MODELS = {
    "Toyota": ["Camry", "Corolla", "RAV4", "Highlander", "Tacoma", "Tundra", "Prius", "Sienna", "4Runner"],
    "Honda": ["Civic", "Accord", "CR-V", "Pilot", "Odyssey", "HR-V", "Ridgeline", "Fit"],
    "Ford": ["F-150", "Escape", "Explorer", "Mustang", "Focus", "Fusion", "Edge", "Ranger", "Bronco"],
    "Chevrolet": ["Silverado 1500", "Equinox", "Malibu", "Tahoe", "Traverse", "Camaro", "Colorado", "Impala"],
    "Nissan": ["Altima", "Sentra", "Rogue", "Pathfinder", "Frontier", "Murano", "Leaf", "Versa"],
    "Hyundai": ["Elantra", "Sonata", "Tucson", "Santa Fe", "Kona", "Palisade"],
    "Kia": ["Forte", "Optima", "Sorento", "Sportage", "Soul", "Telluride"],
    "Subaru": ["Outback", "Forester", "Impreza", "Crosstrek", "Legacy", "Ascent", "WRX"],
    "Volkswagen": ["Jetta", "Passat", "Golf", "Tiguan", "Atlas"],
    "BMW": ["3 Series", "5 Series", "X3", "X5", "X1"],
    "Mercedes-Benz": ["C-Class", "E-Class", "GLC", "GLE", "S-Class"],
    "Audi": ["A4", "A6", "Q5", "Q7", "Q3"],
    "Lexus": ["RX", "ES", "NX", "IS", "GX"],
    "Mazda": ["Mazda3", "Mazda6", "CX-5", "CX-9", "MX-5 Miata", "CX-30"],
    "Jeep": ["Wrangler", "Grand Cherokee", "Cherokee", "Compass", "Renegade", "Gladiator"],
    "Ram": ["1500", "2500"],
    "GMC": ["Sierra 1500", "Terrain", "Acadia", "Yukon"],
    "Dodge": ["Charger", "Challenger", "Durango", "Grand Caravan"],
    "Tesla": ["Model 3", "Model Y", "Model S", "Model X"],
    "Volvo": ["XC60", "XC90", "S60", "XC40"],
    "Acura": ["MDX", "RDX", "TLX", "ILX"],
    "Buick": ["Enclave", "Encore", "LaCrosse"],
    "Cadillac": ["Escalade", "XT5", "CT5"],
    "Chrysler": ["Pacifica", "300"],
    "Infiniti": ["Q50", "QX60"],
    "Mitsubishi": ["Outlander", "Mirage", "Eclipse Cross"],
    "Porsche": ["911", "Cayenne", "Macan"],
    "Mini": ["Cooper", "Countryman"],
    "Lincoln": ["Navigator", "Aviator", "Corsair"],
}
COLOURS = ["White", "Black", "Silver", "Gray", "Blue", "Red", "Green", "Brown", "Beige"]
STATES = ["CA", "TX", "FL", "NY", "PA", "IL", "OH", "GA", "NC", "MI", "WA", "AZ", "MA", "CO"]


def main(rows=3000, seed=2026, out=sys.stdout):
    rng = random.Random(seed)
    makes = list(MODELS)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["make", "model", "year", "mileage", "color", "state"])
    for _ in range(rows):
        make = rng.choice(makes)
        model = rng.choice(MODELS[make])
        year = rng.randint(2005, 2026)
        age = 2026 - year
        mileage = max(0, int(rng.gauss(12000 * age + 3000, 4000 + 3000 * age)))
        writer.writerow([make, model, year, mileage, rng.choice(COLOURS), rng.choice(STATES)])


if __name__ == "__main__":
    with open("cars.csv", "w", newline="") as f:
        main(out=f)
