"""Public PyTorch programs, ported by hand, run twice: with torch and with numbaconv, from the same weights.

Each program is written once as a function of a torch-like namespace ``lib`` and keeps the public program's
text (``torch``, ``nn``, ``F``, ``optim``, ``DataLoader``) with smaller shapes and fewer steps; only the
"imports" differ between the runs. The harness adds three things the programs cannot share otherwise:
``lib.adopt(model)`` copies torch's initial weights into the numbaconv model; ``torch.randn`` and
``nn.Dropout`` draw from one numpy stream in both runs (torch's and numbaconv's generators differ by design);
and data comes from small synthetic datasets in place of torchvision's. Loaders run with ``shuffle=False`` for
the same reason. Every loss, metric and printed size the programs record must match to float32 precision.

Every program runs as written but for its imports.
"""
import collections

import numpy as np
import pytest

import numbaconv as nc

torch = pytest.importorskip("torch")

# numbaconv as shipped, not with conftest.py's Winograd and thread split on every small conv: the losses are
# compared over several float32 training steps, where both forced onto each tiny conv moved a ResNet's fourth
# loss by 5e-4 relative (2e-7 as shipped)
pytestmark = pytest.mark.usefixtures("shipped_dispatch")


class Proxy:
    """A module with some names replaced (the harness's shared random draws)."""

    def __init__(self, target, **overrides):
        self._target = target
        self.__dict__.update(overrides)

    def __getattr__(self, name):
        return getattr(self._target, name)


class Lib:
    """What a program imports, from torch or from numbaconv, plus the harness hooks."""

    def __init__(self, backend, tmp_path, weights=None):
        real = torch if backend == "torch" else nc
        self.backend, self.tmp = backend, tmp_path
        self.records = collections.defaultdict(list)
        self.weights = [] if weights is None else list(weights)
        self._stream = np.random.default_rng(1234)
        self._from_numpy = real.from_numpy
        self.torch = Proxy(real, randn=self._randn)
        self.nn = Proxy(real.nn, Dropout=self._dropout_class(real.nn))
        self.F = real.nn.functional
        self.optim = real.optim
        self.cudnn = real.backends.cudnn
        self.DataLoader = real.utils.data.DataLoader
        self.Dataset = real.utils.data.Dataset

    def _randn(self, *size, device=None, dtype=None, generator=None):
        size = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
        return self._from_numpy(self._stream.standard_normal(size).astype(np.float32)).to(device or "cpu")

    def _dropout_class(self, nn):
        stream, from_numpy = self._stream, self._from_numpy

        class Dropout(nn.Module):
            def __init__(self, p=0.5, inplace=False):
                super().__init__()
                self.p = p

            def forward(self, x):
                if not self.training:
                    return x
                keep = (stream.random(tuple(x.shape)) >= self.p).astype(np.float32) / np.float32(1 - self.p)
                return x * from_numpy(keep)

        return Dropout

    def adopt(self, model):
        """torch: remember the model's initial weights; numbaconv: load the torch run's."""
        if self.backend == "torch":
            self.weights.append({k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()})
        else:
            model.load_state_dict(self.weights.pop(0))
        return model

    def record(self, key, value):
        self.records[key].append(value)

    def record_dtypes(self, key, *dtypes):
        """dtypes by name: torch's print 'torch.uint8', numbaconv's (numpy dtypes) 'uint8', a known difference."""
        self.record(key, [str(d).removeprefix("torch.") for d in dtypes])

    def print(self, *values):
        """What ``print(*values)`` would show, recorded."""
        self.record("printed", " ".join(str(v) for v in values))


def images_dataset(lib, n, shape, num_classes, seed, mean=0.5, std=0.5):
    """In place of torchvision.datasets.X(transform=Compose([ToTensor(), Normalize(mean, std)])): float CHW
    tensors and int labels that depend on the image (so there is something to learn)."""
    rng = np.random.default_rng(seed)
    images = rng.random((n, *shape)).astype(np.float32)
    labels = (images.reshape(n, -1)[:, :num_classes].argmax(1)).astype(np.int64)
    normalized = ((images - mean) / std).astype(np.float32)

    class Synthetic(lib.Dataset):
        def __len__(self):
            return n

        def __getitem__(self, index):
            return lib.torch.from_numpy(normalized[index]), int(labels[index])

    return Synthetic()


def run_both(program, tmp_path):
    theirs = Lib("torch", tmp_path / "torch")
    (tmp_path / "torch").mkdir()
    torch.manual_seed(0)
    program(theirs)
    ours = Lib("numbaconv", tmp_path / "numbaconv", weights=theirs.weights)
    (tmp_path / "numbaconv").mkdir()
    nc.manual_seed(0)
    program(ours)
    assert ours.records.keys() == theirs.records.keys()
    for key, expected in theirs.records.items():
        got = ours.records[key]
        assert len(got) == len(expected), key
        if all(isinstance(v, float) for v in expected):
            np.testing.assert_allclose(got, expected, rtol=2e-4, atol=2e-5, err_msg=key)
        else:
            assert got == expected, key
    return ours.records


# ---- 1. "Training a Classifier" (the official CIFAR-10 tutorial) ---------------------------------------------


def cifar10_tutorial(lib):
    torch, nn, F, optim = lib.torch, lib.nn, lib.F, lib.optim
    batch_size = 4
    trainset = images_dataset(lib, 24, (3, 32, 32), 10, seed=0)
    trainloader = torch.utils.data.DataLoader(trainset, batch_size=batch_size, shuffle=False, num_workers=2)
    testset = images_dataset(lib, 12, (3, 32, 32), 10, seed=1)
    testloader = torch.utils.data.DataLoader(testset, batch_size=batch_size, shuffle=False, num_workers=2)
    classes = ('plane', 'car', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck')

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 6, 5)
            self.pool = nn.MaxPool2d(2, 2)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = self.pool(F.relu(self.conv1(x)))
            x = self.pool(F.relu(self.conv2(x)))
            x = torch.flatten(x, 1)  # flatten all dimensions except batch
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            x = self.fc3(x)
            return x

    net = lib.adopt(Net())
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)

    for epoch in range(2):  # loop over the dataset multiple times
        running_loss = 0.0
        for i, data in enumerate(trainloader, 0):
            # get the inputs; data is a list of [inputs, labels]
            inputs, labels = data
            # zero the parameter gradients
            optimizer.zero_grad()
            # forward + backward + optimize
            outputs = net(inputs)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()
            # print statistics
            running_loss += loss.item()
            lib.record("loss", loss.item())
            if i % 2 == 1:
                lib.record("log", f'[{epoch + 1}, {i + 1:5d}] loss: {running_loss / 2:.3f}')
                running_loss = 0.0

    PATH = lib.tmp / 'cifar_net.pth'
    torch.save(net.state_dict(), PATH)
    net = Net()
    net.load_state_dict(torch.load(PATH, weights_only=True))

    correct = 0
    total = 0
    with torch.no_grad():
        for data in testloader:
            images, labels = data
            outputs = net(images)
            _, predicted = torch.max(outputs, 1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
            lib.record("test logits", outputs.sum().item())
    lib.record("accuracy", f'Accuracy of the network on the test images: {100 * correct // total} %')

    correct_pred = {classname: 0 for classname in classes}
    total_pred = {classname: 0 for classname in classes}
    with torch.no_grad():
        for data in testloader:
            images, labels = data
            outputs = net(images)
            _, predictions = torch.max(outputs, 1)
            for label, prediction in zip(labels, predictions):
                if label == prediction:
                    correct_pred[classes[label]] += 1
                total_pred[classes[label]] += 1
    lib.record("per class", sorted(total_pred.items()) + sorted(correct_pred.items()))


def test_cifar10_tutorial(tmp_path):
    records = run_both(cifar10_tutorial, tmp_path)
    assert len(records["loss"]) == 12


# ---- 2. pytorch/examples mnist/main.py -----------------------------------------------------------------------


def mnist_example(lib):
    torch, nn, F, optim = lib.torch, lib.nn, lib.F, lib.optim
    StepLR = optim.lr_scheduler.StepLR

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, 3, 1)
            self.conv2 = nn.Conv2d(32, 64, 3, 1)
            self.dropout1 = nn.Dropout(0.25)
            self.dropout2 = nn.Dropout(0.5)
            self.fc1 = nn.Linear(9216, 128)
            self.fc2 = nn.Linear(128, 10)

        def forward(self, x):
            x = self.conv1(x)
            x = F.relu(x)
            x = self.conv2(x)
            x = F.relu(x)
            x = F.max_pool2d(x, 2)
            x = self.dropout1(x)
            x = torch.flatten(x, 1)
            x = self.fc1(x)
            x = F.relu(x)
            x = self.dropout2(x)
            x = self.fc2(x)
            output = F.log_softmax(x, dim=1)
            return output

    def train(args, model, device, train_loader, optimizer, epoch):
        model.train()
        for batch_idx, (data, target) in enumerate(train_loader):
            data, target = data.to(device), target.to(device)
            optimizer.zero_grad()
            output = model(data)
            loss = F.nll_loss(output, target)
            loss.backward()
            optimizer.step()
            if batch_idx % args.log_interval == 0:
                lib.record("log", 'Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.4f}'.format(
                    epoch, batch_idx * len(data), len(train_loader.dataset),
                    100. * batch_idx / len(train_loader), loss.item()))
            lib.record("loss", loss.item())

    def test(model, device, test_loader):
        model.eval()
        test_loss = 0
        correct = 0
        with torch.no_grad():
            for data, target in test_loader:
                data, target = data.to(device), target.to(device)
                output = model(data)
                test_loss += F.nll_loss(output, target, reduction='sum').item()  # sum up batch loss
                pred = output.argmax(dim=1, keepdim=True)  # get the index of the max log-probability
                correct += pred.eq(target.view_as(pred)).sum().item()
        test_loss /= len(test_loader.dataset)
        lib.record("test loss", test_loss)
        lib.record("correct", correct)

    args = collections.namedtuple("Args", "batch_size test_batch_size epochs lr gamma no_accel seed log_interval")(
        8, 16, 2, 1.0, 0.7, False, 1, 1)
    use_accel = not args.no_accel and torch.accelerator.is_available()
    torch.manual_seed(args.seed)
    if use_accel:
        device = torch.accelerator.current_accelerator()
    else:
        device = torch.device("cpu")
    train_kwargs = {'batch_size': args.batch_size}
    test_kwargs = {'batch_size': args.test_batch_size}
    dataset1 = images_dataset(lib, 16, (1, 28, 28), 10, seed=2, mean=0.1307, std=0.3081)
    dataset2 = images_dataset(lib, 16, (1, 28, 28), 10, seed=3, mean=0.1307, std=0.3081)
    train_loader = torch.utils.data.DataLoader(dataset1, **train_kwargs)
    test_loader = torch.utils.data.DataLoader(dataset2, **test_kwargs)

    model = lib.adopt(Net().to(device))
    optimizer = optim.Adadelta(model.parameters(), lr=args.lr)

    scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)
    test(model, device, test_loader)
    for epoch in range(1, args.epochs + 1):
        train(args, model, device, train_loader, optimizer, epoch)
        test(model, device, test_loader)
        scheduler.step()
        lib.record("lr", optimizer.param_groups[0]["lr"])
    torch.save(model.state_dict(), lib.tmp / "mnist_cnn.pt")


def test_mnist_example(tmp_path):
    records = run_both(mnist_example, tmp_path)
    assert len(records["loss"]) == 4 and len(records["correct"]) == 3


# ---- 3. a custom Dataset with transforms (the "Writing Custom Datasets, DataLoaders and Transforms" tutorial) ---


def custom_dataset_program(lib):
    torch, nn, F, optim = lib.torch, lib.nn, lib.F, lib.optim
    Dataset, DataLoader = lib.Dataset, lib.DataLoader
    np.random.seed(0)  # the tutorial's RandomCrop draws from numpy

    class FaceLandmarksDataset(Dataset):
        """Face Landmarks dataset (here: generated images of HWC uint8 and float64 landmarks)."""

        def __init__(self, n, transform=None):
            rng = np.random.default_rng(4)
            self.images = rng.integers(0, 256, (n, 30, 28, 3), dtype=np.uint8)
            self.landmarks = rng.random((n, 5, 2)) * 20
            self.transform = transform

        def __len__(self):
            return len(self.images)

        def __getitem__(self, idx):
            if torch.is_tensor(idx):
                idx = idx.tolist()
            sample = {'image': self.images[idx], 'landmarks': self.landmarks[idx]}
            if self.transform:
                sample = self.transform(sample)
            return sample

    class RandomCrop:
        """Crop randomly the image in a sample."""

        def __init__(self, output_size):
            self.output_size = (output_size, output_size)

        def __call__(self, sample):
            image, landmarks = sample['image'], sample['landmarks']
            h, w = image.shape[:2]
            new_h, new_w = self.output_size
            top = np.random.randint(0, h - new_h + 1)
            left = np.random.randint(0, w - new_w + 1)
            image = image[top: top + new_h, left: left + new_w]
            landmarks = landmarks - [left, top]
            return {'image': image, 'landmarks': landmarks}

    class ToTensor:
        """Convert ndarrays in sample to Tensors."""

        def __call__(self, sample):
            image, landmarks = sample['image'], sample['landmarks']
            # swap color axis because numpy image: H x W x C, torch image: C x H x W
            image = image.transpose((2, 0, 1))
            return {'image': torch.from_numpy(np.ascontiguousarray(image)), 'landmarks': torch.from_numpy(landmarks)}

    class Compose:  # torchvision.transforms.Compose
        def __init__(self, transforms):
            self.transforms = transforms

        def __call__(self, sample):
            for t in self.transforms:
                sample = t(sample)
            return sample

    transformed_dataset = FaceLandmarksDataset(12, transform=Compose([RandomCrop(24), ToTensor()]))
    dataloader = DataLoader(transformed_dataset, batch_size=4, shuffle=False, num_workers=0)

    model = lib.adopt(nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                    nn.Linear(8, 10)))
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    for epoch in range(2):
        for i_batch, sample_batched in enumerate(dataloader):
            lib.print(i_batch, sample_batched['image'].size(), sample_batched['landmarks'].size())
            lib.record_dtypes("dtypes", sample_batched['image'].dtype, sample_batched['landmarks'].dtype)
            images = sample_batched['image'].float() / 255
            landmarks = sample_batched['landmarks'].float().view(images.size(0), -1)
            loss = F.mse_loss(model(images), landmarks)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            lib.record("loss", loss.item())


def test_custom_dataset_program(tmp_path):
    records = run_both(custom_dataset_program, tmp_path)
    assert records["printed"][0] == "0 torch.Size([4, 3, 24, 24]) torch.Size([4, 5, 2])"
    assert records["dtypes"][0] == ["uint8", "float64"]  # stacked as the dataset returned them


# ---- 4. a kuangliu/pytorch-cifar ResNet and its training loop -----------------------------------------------


def kuangliu_resnet(lib):
    torch, nn, F, optim = lib.torch, lib.nn, lib.F, lib.optim
    cudnn = lib.cudnn

    class BasicBlock(nn.Module):
        expansion = 1

        def __init__(self, in_planes, planes, stride=1):
            super().__init__()
            self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)

            self.shortcut = nn.Sequential()
            if stride != 1 or in_planes != self.expansion * planes:
                self.shortcut = nn.Sequential(
                    nn.Conv2d(in_planes, self.expansion * planes, kernel_size=1, stride=stride, bias=False),
                    nn.BatchNorm2d(self.expansion * planes)
                )

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            out += self.shortcut(x)
            out = F.relu(out)
            return out

    class ResNet(nn.Module):
        def __init__(self, block, num_blocks, num_classes=10, width=8):  # width 64 in the original
            super().__init__()
            self.in_planes = width

            self.conv1 = nn.Conv2d(3, width, kernel_size=3, stride=1, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(width)
            self.layer1 = self._make_layer(block, width, num_blocks[0], stride=1)
            self.layer2 = self._make_layer(block, 2 * width, num_blocks[1], stride=2)
            self.layer3 = self._make_layer(block, 4 * width, num_blocks[2], stride=2)
            self.layer4 = self._make_layer(block, 8 * width, num_blocks[3], stride=2)
            self.linear = nn.Linear(8 * width * block.expansion, num_classes)

        def _make_layer(self, block, planes, num_blocks, stride):
            strides = [stride] + [1] * (num_blocks - 1)
            layers = []
            for stride in strides:
                layers.append(block(self.in_planes, planes, stride))
                self.in_planes = planes * block.expansion
            return nn.Sequential(*layers)

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.layer1(out)
            out = self.layer2(out)
            out = self.layer3(out)
            out = self.layer4(out)
            out = F.avg_pool2d(out, 4)
            out = out.view(out.size(0), -1)
            out = self.linear(out)
            return out

    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    trainloader = torch.utils.data.DataLoader(images_dataset(lib, 16, (3, 32, 32), 10, seed=5), batch_size=8,
                                              shuffle=False, num_workers=2)
    testloader = torch.utils.data.DataLoader(images_dataset(lib, 8, (3, 32, 32), 10, seed=6), batch_size=8,
                                             shuffle=False, num_workers=2)
    net = ResNet(BasicBlock, [1, 1, 1, 1])
    net = net.to(device)
    lib.adopt(net)
    if device == 'cuda':
        cudnn.benchmark = True
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=200)

    def train(epoch):
        net.train()
        train_loss = 0
        correct = 0
        total = 0
        for batch_idx, (inputs, targets) in enumerate(trainloader):
            inputs, targets = inputs.to(device), targets.to(device)
            optimizer.zero_grad()
            outputs = net(inputs)
            loss = criterion(outputs, targets)
            loss.backward()
            optimizer.step()

            train_loss += loss.item()
            _, predicted = outputs.max(1)
            total += targets.size(0)
            correct += predicted.eq(targets).sum().item()
            lib.record("progress", 'Loss: %.3f | Acc: %.3f%% (%d/%d)' % (
                train_loss / (batch_idx + 1), 100. * correct / total, correct, total))
            lib.record("loss", loss.item())

    def test(epoch):
        net.eval()
        test_loss = 0
        with torch.no_grad():
            for batch_idx, (inputs, targets) in enumerate(testloader):
                inputs, targets = inputs.to(device), targets.to(device)
                outputs = net(inputs)
                loss = criterion(outputs, targets)
                test_loss += loss.item()
        lib.record("test loss", test_loss)

    for epoch in range(2):
        train(epoch)
        test(epoch)
        scheduler.step()


def test_kuangliu_resnet(tmp_path):
    records = run_both(kuangliu_resnet, tmp_path)
    assert len(records["loss"]) == 4


# ---- 5. an ImageNet-style loop (pytorch/examples imagenet/main.py) on a torchvision-style ResNet ----------------


def imagenet_style(lib):
    torch, nn, optim = lib.torch, lib.nn, lib.optim
    StepLR = optim.lr_scheduler.StepLR

    def conv3x3(in_planes, out_planes, stride=1):
        return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)

    class BasicBlock(nn.Module):  # torchvision.models.resnet.BasicBlock
        expansion = 1

        def __init__(self, inplanes, planes, stride=1, downsample=None):
            super().__init__()
            self.conv1 = conv3x3(inplanes, planes, stride)
            self.bn1 = nn.BatchNorm2d(planes)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = conv3x3(planes, planes)
            self.bn2 = nn.BatchNorm2d(planes)
            self.downsample = downsample
            self.stride = stride

        def forward(self, x):
            identity = x
            out = self.conv1(x)
            out = self.bn1(out)
            out = self.relu(out)
            out = self.conv2(out)
            out = self.bn2(out)
            if self.downsample is not None:
                identity = self.downsample(x)
            out += identity
            out = self.relu(out)
            return out

    class ResNet(nn.Module):  # torchvision.models.resnet.ResNet, two stages, narrow
        def __init__(self, block, layers, num_classes=5, zero_init_residual=False):
            super().__init__()
            self.inplanes = 8
            self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
            self.bn1 = nn.BatchNorm2d(self.inplanes)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
            self.layer1 = self._make_layer(block, 8, layers[0])
            self.layer2 = self._make_layer(block, 16, layers[1], stride=2)
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(16 * block.expansion, num_classes)
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
            if zero_init_residual:
                for m in self.modules():
                    if isinstance(m, BasicBlock) and m.bn2.weight is not None:
                        nn.init.constant_(m.bn2.weight, 0)

        def _make_layer(self, block, planes, blocks, stride=1):
            downsample = None
            if stride != 1 or self.inplanes != planes * block.expansion:
                downsample = nn.Sequential(
                    nn.Conv2d(self.inplanes, planes * block.expansion, kernel_size=1, stride=stride, bias=False),
                    nn.BatchNorm2d(planes * block.expansion),
                )
            layers = [block(self.inplanes, planes, stride, downsample)]
            self.inplanes = planes * block.expansion
            for _ in range(1, blocks):
                layers.append(block(self.inplanes, planes))
            return nn.Sequential(*layers)

        def forward(self, x):
            x = self.conv1(x)
            x = self.bn1(x)
            x = self.relu(x)
            x = self.maxpool(x)
            x = self.layer1(x)
            x = self.layer2(x)
            x = self.avgpool(x)
            x = torch.flatten(x, 1)
            x = self.fc(x)
            return x

    class AverageMeter:
        def __init__(self, name, fmt=':f'):
            self.name, self.fmt = name, fmt
            self.val = self.avg = self.sum = self.count = 0

        def update(self, val, n=1):
            self.val = val
            self.sum += val * n
            self.count += n
            self.avg = self.sum / self.count

        def __str__(self):
            fmtstr = '{name} {val' + self.fmt + '} ({avg' + self.fmt + '})'
            return fmtstr.format(**self.__dict__)

    def accuracy(output, target, topk=(1,)):
        """Computes the accuracy over the k top predictions for the specified values of k"""
        with torch.no_grad():
            maxk = max(topk)
            batch_size = target.size(0)
            _, pred = output.topk(maxk, 1, True, True)
            pred = pred.t()
            correct = pred.eq(target.view(1, -1).expand_as(pred))
            res = []
            for k in topk:
                correct_k = correct[:k].reshape(-1).float().sum(0, keepdim=True)
                res.append(correct_k.mul_(100.0 / batch_size))
            return res

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = lib.adopt(ResNet(BasicBlock, [2, 1]).to(device))
    criterion = nn.CrossEntropyLoss().to(device)
    optimizer = torch.optim.SGD(model.parameters(), 0.05, momentum=0.9, weight_decay=1e-4)
    scheduler = StepLR(optimizer, step_size=1, gamma=0.1)
    torch.backends.cudnn.benchmark = True
    train_loader = torch.utils.data.DataLoader(images_dataset(lib, 12, (3, 32, 32), 5, seed=7), batch_size=6,
                                               shuffle=False, num_workers=2, pin_memory=True)
    for epoch in range(2):
        losses, top1 = AverageMeter('Loss', ':.4e'), AverageMeter('Acc@1', ':6.2f')
        model.train()
        for i, (images, target) in enumerate(train_loader):
            images = images.to(device, non_blocking=True)
            target = target.to(device, non_blocking=True)
            output = model(images)
            loss = criterion(output, target)
            acc1, acc5 = accuracy(output, target, topk=(1, 5))
            losses.update(loss.item(), images.size(0))
            top1.update(acc1[0], images.size(0))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            lib.record("loss", loss.item())
            lib.record("meters", f"{losses} {top1} {acc5[0]:.1f}")
        scheduler.step()


def test_imagenet_style(tmp_path):
    run_both(imagenet_style, tmp_path)


# ---- 6. the DCGAN tutorial --------------------------------------------------------------------------------------


def dcgan_tutorial(lib):
    torch, nn, optim = lib.torch, lib.nn, lib.optim
    nc_, nz, ngf, ndf = 3, 8, 4, 4  # 3, 100, 64, 64 in the tutorial
    beta1, lr = 0.5, 0.0002
    device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")

    def weights_init(m):
        classname = m.__class__.__name__
        if classname.find('Conv') != -1:
            nn.init.normal_(m.weight.data, 0.0, 0.02)
        elif classname.find('BatchNorm') != -1:
            nn.init.normal_(m.weight.data, 1.0, 0.02)
            nn.init.constant_(m.bias.data, 0)

    class Generator(nn.Module):
        def __init__(self):
            super().__init__()
            self.main = nn.Sequential(
                nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
                nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
                nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
                nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
                nn.ConvTranspose2d(ngf, nc_, 4, 2, 1, bias=False), nn.Tanh())

        def forward(self, input):
            return self.main(input)

    class Discriminator(nn.Module):
        def __init__(self):
            super().__init__()
            self.main = nn.Sequential(
                nn.Conv2d(nc_, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 4),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 8),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False), nn.Sigmoid())

        def forward(self, input):
            return self.main(input)

    netG = Generator().to(device)
    netG.apply(weights_init)
    lib.adopt(netG)
    netD = Discriminator().to(device)
    netD.apply(weights_init)
    lib.adopt(netD)
    criterion = nn.BCELoss()
    fixed_noise = torch.randn(4, nz, 1, 1, device=device)
    real_label, fake_label = 1., 0.
    optimizerD = optim.Adam(netD.parameters(), lr=lr, betas=(beta1, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=lr, betas=(beta1, 0.999))
    dataloader = torch.utils.data.DataLoader(images_dataset(lib, 8, (3, 64, 64), 2, seed=8), batch_size=4,
                                             shuffle=False, num_workers=2)
    for epoch in range(1):
        for i, data in enumerate(dataloader, 0):
            netD.zero_grad()
            real_cpu = data[0].to(device)
            b_size = real_cpu.size(0)
            label = torch.full((b_size,), real_label, dtype=torch.float, device=device)
            output = netD(real_cpu).view(-1)
            errD_real = criterion(output, label)
            errD_real.backward()
            D_x = output.mean().item()
            noise = torch.randn(b_size, nz, 1, 1, device=device)
            fake = netG(noise)
            label.fill_(fake_label)
            output = netD(fake.detach()).view(-1)
            errD_fake = criterion(output, label)
            errD_fake.backward()
            D_G_z1 = output.mean().item()
            errD = errD_real + errD_fake
            optimizerD.step()
            netG.zero_grad()
            label.fill_(real_label)
            output = netD(fake).view(-1)
            errG = criterion(output, label)
            errG.backward()
            D_G_z2 = output.mean().item()
            optimizerG.step()
            lib.record("losses", f'Loss_D: {errD.item():.4f}\tLoss_G: {errG.item():.4f}\t'
                                 f'D(x): {D_x:.4f}\tD(G(z)): {D_G_z1:.4f} / {D_G_z2:.4f}')
            lib.record("errD", errD.item())
    with torch.no_grad():
        fake = netG(fixed_noise).detach().cpu()
    lib.record("fake", fake.sum().item())


def test_dcgan_tutorial(tmp_path):
    run_both(dcgan_tutorial, tmp_path)
