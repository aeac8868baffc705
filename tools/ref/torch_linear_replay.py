#!/usr/bin/python3
"""Independent replay of the seed tutorial's linear model in PyTorch.

The tutorial's pipeline (ImageFolder, Resize((H, W)), ToTensor, random_split
0.7/0.2/0.1 with a seeded generator, DataLoader batch 12 shuffled) and a
Keras-equivalent model: Flatten -> Dense(classes) with Glorot-uniform kernel,
zero bias, softmax cross-entropy from the logits, Adam(lr 1e-3, eps 1e-7).
Prints the test accuracy for each seed, to compare with `clfit train`'s
spread on the same folder (the split assignment differs from clfit's; the
subset sizes are the same).

usage: /usr/bin/python3 tools/ref/torch_linear_replay.py DATA_DIR [--size 224]
       [--epochs 5] [--seeds 20,21,22,23,24]
"""
import argparse

import torch
from torch.utils.data import DataLoader, random_split
from torchvision import datasets, transforms


def run(data_dir, size, epochs, seed):
    torch.manual_seed(seed)
    trs = transforms.Compose([transforms.Resize((size, size)), transforms.ToTensor()])
    data = datasets.ImageFolder(data_dir, transform=lambda im: trs(im.convert("RGB")))
    g = torch.Generator().manual_seed(seed)
    train, val, test = random_split(data, [0.7, 0.2, 0.1], g)
    train_loader = DataLoader(train, batch_size=12, shuffle=True)
    test_loader = DataLoader(test, batch_size=12, shuffle=False)

    model = torch.nn.Sequential(torch.nn.Flatten(),
                                torch.nn.Linear(3 * size * size, len(data.classes)))
    torch.nn.init.xavier_uniform_(model[1].weight)
    torch.nn.init.zeros_(model[1].bias)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()

    for _ in range(epochs):
        model.train()
        for x, y in train_loader:
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()

    model.eval()
    correct = total = 0
    with torch.no_grad():
        for x, y in test_loader:
            correct += (model(x).argmax(1) == y).sum().item()
            total += len(y)
    return correct / total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data_dir")
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--seeds", default="20,21,22,23,24")
    a = ap.parse_args()
    torch.set_num_threads(2)
    accs = []
    for s in [int(x) for x in a.seeds.split(",")]:
        acc = run(a.data_dir, a.size, a.epochs, s)
        accs.append(acc)
        print(f"seed {s}: test accuracy {acc:.4f}", flush=True)
    print(f"mean {sum(accs) / len(accs):.4f} over {len(accs)} seeds")


if __name__ == "__main__":
    main()
